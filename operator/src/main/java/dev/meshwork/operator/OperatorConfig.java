package dev.meshwork.operator;

import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.ipam.CidrPool;
import dev.meshwork.operator.ipam.Ipv4Cidr;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * The settings of meshwork-operator, from flags ({@code --cluster-name}) or the environment
 * ({@code MESHWORK_CLUSTER_NAME}). The Helm chart's values map one-to-one onto them.
 */
public record OperatorConfig(
    LocalCluster cluster,
    Path kvstoreConfig,
    Ipv4Cidr poolCidr,
    int poolMaskSize,
    Duration identityGcGrace,
    int metricsPort,
    boolean leaderElection,
    String leaderElectionNamespace,
    String leaderElectionLeaseName,
    Duration leaderElectionLeaseDuration,
    Duration leaderElectionRenewDeadline,
    Duration leaderElectionRetryPeriod,
    String podName,
    int workers,
    double kvstoreWritesPerSecond,
    Duration kvstoreLeaseTtl,
    Duration kvstoreDataLossCheckInterval,
    Duration heartbeatInterval) {

  public OperatorConfig {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(kvstoreConfig, "kvstoreConfig");
    Objects.requireNonNull(poolCidr, "poolCidr");
  }

  /**
   * Reads and validates every setting.
   *
   * @throws ConfigException naming the setting at fault
   */
  public static OperatorConfig from(ConfigSource source) {
    // Required settings are checked after every setting has been read, so that --help lists all.
    var name =
        source
            .document("cluster-name", "name of this cluster, at most 32 characters of [a-z0-9-]")
            .value("cluster-name", "string, required", (String) null, text -> text);
    Integer id =
        source
            .document("cluster-id", "id of this cluster, 1..255, unique in the mesh")
            .value("cluster-id", "integer 1..255, required", (Integer) null, text -> ClusterId.parse(text).value());
    var kvstorePath =
        source
            .document("kvstore-config", "YAML file: endpoints, trusted-ca-file, cert-file, key-file of this cluster's etcd")
            .value("kvstore-config", "path, required", (Path) null, Path::of);
    Ipv4Cidr pool =
        source
            .document("cluster-pool-ipv4-cidr", "the pool node pod CIDRs are cut from")
            .value("cluster-pool-ipv4-cidr", "IPv4 CIDR", Ipv4Cidr.parse("10.0.0.0/8"), Ipv4Cidr::parse);
    int maskSize =
        source
            .document("cluster-pool-ipv4-mask-size", "prefix length of each node's pod CIDR")
            .integer("cluster-pool-ipv4-mask-size", 24, 1, 32);
    try {
      new CidrPool(pool, maskSize);
    } catch (IllegalArgumentException e) {
      throw ConfigException.invalid("cluster-pool-ipv4-mask-size", e.getMessage());
    }
    Duration grace =
        source
            .document("identity-gc-grace", "how long an identity no pod uses is kept before it is freed")
            .duration("identity-gc-grace", Duration.ofMinutes(5), Duration.ZERO, Duration.ofDays(7));
    int metricsPort = source.document("metrics-port", "Prometheus /metrics port, 0 = off").port("metrics-port", 9963);
    boolean election =
        source
            .document("leader-election", "run only while holding the Lease (disable for a single replica)")
            .bool("leader-election", true);
    String namespace =
        source
            .document("leader-election-namespace", "namespace of the leader election Lease")
            .string("leader-election-namespace", "kube-system");
    String leaseName = source.string("leader-election-lease-name", "meshwork-operator");
    Duration leaseDuration =
        source.duration("leader-election-lease-duration", Duration.ofSeconds(15), Duration.ofMillis(500), Duration.ofMinutes(10));
    Duration renewDeadline =
        source.duration("leader-election-renew-deadline", Duration.ofSeconds(10), Duration.ofMillis(300), Duration.ofMinutes(10));
    Duration retryPeriod =
        source.duration("leader-election-retry-period", Duration.ofSeconds(2), Duration.ofMillis(100), Duration.ofMinutes(1));
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      throw ConfigException.invalid(
          "leader-election-renew-deadline",
          "it must be shorter than --leader-election-lease-duration (" + ConfigSource.formatDuration(leaseDuration) + ")");
    }
    String podName =
        source
            .document("pod-name", "this replica's name in the Lease and the heartbeat (the Pod name)")
            .string("pod-name", defaultPodName());
    int workers = source.integer("workers", 2, 1, 64);
    double writesPerSecond =
        source.value("kvstore-writes-per-second", "number", 1000.0, OperatorConfig::positiveNumber);
    Duration leaseTtl =
        source.duration("kvstore-lease-ttl", Duration.ofSeconds(60), Duration.ofSeconds(5), Duration.ofHours(1));
    Duration dataLoss =
        source.duration("kvstore-data-loss-check-interval", Duration.ofSeconds(10), Duration.ofMillis(100), Duration.ofHours(1));
    Duration heartbeat =
        source.duration("heartbeat-interval", Duration.ofMinutes(1), Duration.ofMillis(100), Duration.ofHours(1));
    if (name == null) {
      throw ConfigException.missing("cluster-name");
    }
    if (id == null) {
      throw ConfigException.missing("cluster-id");
    }
    if (kvstorePath == null) {
      throw ConfigException.missing("kvstore-config");
    }
    LocalCluster cluster;
    try {
      cluster = new LocalCluster(name, id);
    } catch (IllegalArgumentException e) {
      throw ConfigException.invalid("cluster-name", name, e.getMessage());
    }
    Path kvstore = kvstorePath;
    return new OperatorConfig(
        cluster, kvstore, pool, maskSize, grace, metricsPort, election, namespace, leaseName,
        leaseDuration, renewDeadline, retryPeriod, podName, workers, writesPerSecond, leaseTtl,
        dataLoss, heartbeat);
  }

  private static double positiveNumber(String text) {
    double value;
    try {
      value = Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("\"" + text + "\" is not a number");
    }
    if (!(value > 0)) {
      throw new IllegalArgumentException("\"" + text + "\" must be positive");
    }
    return value;
  }

  private static String defaultPodName() {
    String fromKubernetes = System.getenv("POD_NAME");
    if (fromKubernetes != null && !fromKubernetes.isBlank()) {
      return fromKubernetes;
    }
    String host = System.getenv("HOSTNAME");
    return host == null || host.isBlank() ? "meshwork-operator" : host;
  }

  /** A copy with other values for tests and benchmarks. */
  public OperatorConfig withLeaderElection(boolean enabled) {
    return new OperatorConfig(
        cluster, kvstoreConfig, poolCidr, poolMaskSize, identityGcGrace, metricsPort, enabled,
        leaderElectionNamespace, leaderElectionLeaseName, leaderElectionLeaseDuration,
        leaderElectionRenewDeadline, leaderElectionRetryPeriod, podName, workers,
        kvstoreWritesPerSecond, kvstoreLeaseTtl, kvstoreDataLossCheckInterval, heartbeatInterval);
  }
}
