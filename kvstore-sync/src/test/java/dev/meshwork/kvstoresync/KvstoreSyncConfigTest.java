package dev.meshwork.kvstoresync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class KvstoreSyncConfigTest {
  private static KvstoreSyncConfig parse(Map<String, String> env, String... args) {
    ConfigSource source = ConfigSource.of(args, env);
    KvstoreSyncConfig config = KvstoreSyncConfig.from(source);
    source.rejectUnknown();
    return config;
  }

  @Test
  void readsEverySettingFromFlags() {
    KvstoreSyncConfig config = parse(Map.of(),
        "--cluster-name=cluster-1", "--cluster-id=1", "--kvstore-config=/etc/meshwork/etcd.yaml",
        "--clustermesh-config-dir=/etc/meshwork/clustermesh", "--clustermesh-drain-grace=30s", "--metrics-port=9000");

    assertThat(config).isEqualTo(new KvstoreSyncConfig(ClusterName.of("cluster-1"), ClusterId.of(1),
        Path.of("/etc/meshwork/etcd.yaml"), Path.of("/etc/meshwork/clustermesh"), Duration.ofSeconds(30), 9000));
  }

  @Test
  void readsTheEnvironmentAndAppliesDefaults() {
    KvstoreSyncConfig config = parse(Map.of("MESHWORK_CLUSTER_NAME", "cluster-2", "MESHWORK_CLUSTER_ID", "2"));

    assertThat(config.clusterName()).isEqualTo(ClusterName.of("cluster-2"));
    assertThat(config.clusterId()).isEqualTo(ClusterId.of(2));
    assertThat(config.kvstoreConfig()).isEqualTo(KvstoreSyncConfig.DEFAULT_KVSTORE_CONFIG);
    assertThat(config.clustermeshConfigDir()).isEqualTo(KvstoreSyncConfig.DEFAULT_CLUSTERMESH_CONFIG_DIR);
    assertThat(config.metricsPort()).isEqualTo(KvstoreSyncConfig.DEFAULT_METRICS_PORT);
    assertThat(config.drainGrace()).isEqualTo(Duration.ofMinutes(3));
  }

  @Test
  void flagWinsOverEnvironment() {
    KvstoreSyncConfig config = parse(Map.of("MESHWORK_CLUSTER_NAME", "from-env", "MESHWORK_CLUSTER_ID", "2"), "--cluster-name=from-flag");

    assertThat(config.clusterName().value()).isEqualTo("from-flag");
  }

  @Test
  void badClusterNameNamesTheSettingAndTheRule() {
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=Cluster_1", "--cluster-id=1"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("invalid --cluster-name (MESHWORK_CLUSTER_NAME): invalid cluster name \"Cluster_1\": "
            + "character 'C' at position 1 is not allowed (only a-z, 0-9 and '-')");
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=" + "a".repeat(33), "--cluster-id=1"))
        .hasMessageContaining("--cluster-name").hasMessageContaining("at most 32");
  }

  @Test
  void clusterIdOutside1To255NamesTheSetting() {
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=c", "--cluster-id=0"))
        .hasMessage("invalid --cluster-id (MESHWORK_CLUSTER_ID): \"0\" is outside 1..255");
    assertThatThrownBy(() -> parse(Map.of("MESHWORK_CLUSTER_ID", "256"), "--cluster-name=c"))
        .hasMessage("invalid --cluster-id (MESHWORK_CLUSTER_ID): \"256\" is outside 1..255");
  }

  @Test
  void missingClusterIdentityIsRequired() {
    assertThatThrownBy(() -> parse(Map.of())).hasMessage("missing --cluster-name (MESHWORK_CLUSTER_NAME): it is required");
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=c")).hasMessage("missing --cluster-id (MESHWORK_CLUSTER_ID): it is required");
  }

  @Test
  void negativeDrainGraceNamesTheSetting() {
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=c", "--cluster-id=1", "--clustermesh-drain-grace=soon"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--clustermesh-drain-grace");
  }

  @Test
  void unknownFlagIsRefused() {
    assertThatThrownBy(() -> parse(Map.of(), "--cluster-name=c", "--cluster-id=1", "--kvstore-conf=/x"))
        .hasMessage("unknown flag --kvstore-conf (did you mean --kvstore-config?)");
  }
}
