package dev.meshwork.kvstoresync;

import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.common.config.ConfigSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings of {@code meshwork-kvstore-sync}, read from flags and {@code MESHWORK_*} variables.
 *
 * @param clusterName this cluster's name ({@code --cluster-name}, {@code MESHWORK_CLUSTER_NAME})
 * @param clusterId this cluster's id, 1..255 ({@code --cluster-id})
 * @param kvstoreConfig the YAML file describing the local etcd it mirrors into ({@code --kvstore-config})
 * @param clustermeshConfigDir the directory with one YAML file per remote cluster, named after the
 *     cluster ({@code --clustermesh-config-dir}); the mounted clustermesh secret
 * @param drainGrace how long the mirror of a remote whose config file was removed is kept before
 *     it is deleted ({@code --clustermesh-drain-grace}, default 3m)
 * @param metricsPort the port of {@code GET /metrics}, 0 for any free port ({@code --metrics-port})
 */
public record KvstoreSyncConfig(
    ClusterName clusterName, ClusterId clusterId, Path kvstoreConfig, Path clustermeshConfigDir, Duration drainGrace,
    int metricsPort) {

  public static final Path DEFAULT_KVSTORE_CONFIG = Path.of("/var/lib/meshwork/etcd-config.yaml");
  public static final Path DEFAULT_CLUSTERMESH_CONFIG_DIR = Path.of("/var/lib/meshwork/clustermesh");
  public static final int DEFAULT_METRICS_PORT = 9966;
  public static final Duration DEFAULT_DRAIN_GRACE = Duration.ofMinutes(3);

  public KvstoreSyncConfig {
    Objects.requireNonNull(clusterName, "clusterName");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(kvstoreConfig, "kvstoreConfig");
    Objects.requireNonNull(clustermeshConfigDir, "clustermeshConfigDir");
    Objects.requireNonNull(drainGrace, "drainGrace");
    if (metricsPort < 0 || metricsPort > 65535) {
      throw new IllegalArgumentException("metrics port " + metricsPort + " is outside 0..65535");
    }
  }

  /**
   * Reads the settings.
   *
   * @throws dev.meshwork.common.config.ConfigException naming the first setting that is missing or bad
   */
  public static KvstoreSyncConfig from(ConfigSource source) {
    source
        .document("cluster-name", "name of this cluster: at most 32 characters of a-z, 0-9 and '-'")
        .document("cluster-id", "id of this cluster in the mesh, unique per mesh")
        .document("kvstore-config", "YAML file (endpoints, trusted-ca-file, cert-file, key-file) of the local etcd to mirror into")
        .document("clustermesh-config-dir", "directory with one YAML file per remote cluster, named after the cluster")
        .document("clustermesh-drain-grace", "how long the mirror of a removed remote cluster is kept before it is deleted (e.g. 3m)")
        .document("metrics-port", "port serving GET /metrics (0: any free port)");
    ClusterName clusterName = source.required("cluster-name", "cluster name", ClusterName::of);
    int clusterId = source.requiredInteger("cluster-id", ClusterId.MIN, ClusterId.MAX);
    Path kvstoreConfig = source.path("kvstore-config", DEFAULT_KVSTORE_CONFIG);
    Path clustermeshConfigDir = source.path("clustermesh-config-dir", DEFAULT_CLUSTERMESH_CONFIG_DIR);
    Duration drainGrace = source.duration("clustermesh-drain-grace", DEFAULT_DRAIN_GRACE, Duration.ZERO, Duration.ofDays(1));
    int metricsPort = source.port("metrics-port", DEFAULT_METRICS_PORT);
    return new KvstoreSyncConfig(clusterName, ClusterId.of(clusterId), kvstoreConfig, clustermeshConfigDir, drainGrace,
        metricsPort);
  }
}
