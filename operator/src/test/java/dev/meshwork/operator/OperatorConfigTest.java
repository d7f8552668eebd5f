package dev.meshwork.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class OperatorConfigTest {

  private static final List<String> REQUIRED =
      List.of("--cluster-name=k8s-test-cluster", "--cluster-id=1", "--kvstore-config=/etc/meshwork/kvstore.yaml");

  private static OperatorConfig parse(String... extra) {
    List<String> args = new ArrayList<>(REQUIRED);
    args.addAll(List.of(extra));
    ConfigSource source = ConfigSource.of(args.toArray(String[]::new), Map.of());
    OperatorConfig config = OperatorConfig.from(source);
    source.rejectUnknown();
    return config;
  }

  @Test
  void readsTheBlogsHelmValuesAndDefaultsTheRest() {
    OperatorConfig config =
        parse("--cluster-pool-ipv4-cidr=10.1.0.0/16", "--cluster-pool-ipv4-mask-size=24");

    assertThat(config.cluster().name()).isEqualTo("k8s-test-cluster");
    assertThat(config.cluster().id()).isEqualTo(1);
    assertThat(config.poolCidr()).hasToString("10.1.0.0/16");
    assertThat(config.poolMaskSize()).isEqualTo(24);
    assertThat(config.identityGcGrace()).isEqualTo(Duration.ofMinutes(5));
    assertThat(config.leaderElection()).isTrue();
    assertThat(config.metricsPort()).isEqualTo(9963);
  }

  @Test
  void readsSettingsFromTheEnvironment() {
    ConfigSource source = ConfigSource.of(new String[0], Map.of(
        "MESHWORK_CLUSTER_NAME", "k8s-shared-cluster",
        "MESHWORK_CLUSTER_ID", "2",
        "MESHWORK_KVSTORE_CONFIG", "/etc/meshwork/kvstore.yaml",
        "MESHWORK_IDENTITY_GC_GRACE", "30s"));

    OperatorConfig config = OperatorConfig.from(source);

    assertThat(config.cluster().name()).isEqualTo("k8s-shared-cluster");
    assertThat(config.identityGcGrace()).isEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void rejectsAClusterIdOfZeroOr300NamingTheSetting() {
    for (String id : List.of("0", "300")) {
      ConfigSource source = ConfigSource.of(new String[] {
          "--cluster-name=k8s-test-cluster", "--cluster-id=" + id, "--kvstore-config=/k.yaml"}, Map.of());
      assertThatThrownBy(() -> OperatorConfig.from(source))
          .isInstanceOf(ConfigException.class)
          .hasMessageContaining("--cluster-id")
          .hasMessageContaining("MESHWORK_CLUSTER_ID")
          .hasMessageContaining(id);
    }
  }

  @Test
  void rejectsAPoolCidrThatDoesNotParse() {
    assertThatThrownBy(() -> parse("--cluster-pool-ipv4-cidr=10.1.0.0/33"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--cluster-pool-ipv4-cidr")
        .hasMessageContaining("10.1.0.0/33")
        .hasMessageContaining("0..32");
    assertThatThrownBy(() -> parse("--cluster-pool-ipv4-cidr=10.1.300.0/16"))
        .hasMessageContaining("'300' is not an octet");
    assertThatThrownBy(() -> parse("--cluster-pool-ipv4-cidr=10.1.2.0/16"))
        .hasMessageContaining("host bits are set (did you mean 10.1.0.0/16?)");
  }

  @Test
  void rejectsAMaskSizeLargerThanThePool() {
    assertThatThrownBy(
            () -> parse("--cluster-pool-ipv4-cidr=10.1.0.0/16", "--cluster-pool-ipv4-mask-size=8"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--cluster-pool-ipv4-mask-size")
        .hasMessageContaining("larger than the pool 10.1.0.0/16");
  }

  @Test
  void rejectsAnInvalidClusterNameAndAMisspeltFlag() {
    ConfigSource source = ConfigSource.of(new String[] {
        "--cluster-name=K8s_Test", "--cluster-id=1", "--kvstore-config=/k.yaml"}, Map.of());
    assertThatThrownBy(() -> OperatorConfig.from(source))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--cluster-name")
        .hasMessageContaining("K8s_Test");

    assertThatThrownBy(() -> parse("--cluster-pool-ipv4-mask=24"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cluster-pool-ipv4-mask");
  }

  @Test
  void rejectsARenewDeadlineThatIsNotShorterThanTheLease() {
    assertThatThrownBy(() -> parse("--leader-election-lease-duration=5s", "--leader-election-renew-deadline=5s"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--leader-election-renew-deadline");
  }
}
