package dev.meshwork.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.agent.AgentConfig.EndpointManagement;
import dev.meshwork.agent.endpoint.EndpointConfig;
import dev.meshwork.agent.endpoint.EndpointLinks;
import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.datapath.IpPrefix;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The endpoint settings of {@code meshwork-agent}: flags, {@code MESHWORK_*} variables, validation. */
class EndpointSettingsTest {
  static AgentConfig read(Map<String, String> env, String... flags) {
    String[] args = new String[flags.length + 3];
    args[0] = "--cluster-name=c1";
    args[1] = "--cluster-id=7";
    args[2] = "--node-name=n1";
    System.arraycopy(flags, 0, args, 3, flags.length);
    return AgentConfig.from(ConfigSource.of(args, env));
  }

  @Test
  void defaultsRunTheManagerWhenAnApiIsConfiguredAndReadThePodCidrFromTheMeshNode() {
    AgentConfig.EndpointSettings settings = read(Map.of()).endpoints();

    assertThat(settings.management()).isEqualTo(EndpointManagement.AUTO);
    assertThat(settings.stateDir()).isEqualTo(EndpointConfig.DEFAULT_STATE_DIR);
    assertThat(settings.mtu()).isEqualTo(1450);
    assertThat(settings.identityTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(settings.podCidr()).isEmpty();
    assertThat(settings.podCidrTimeout()).isEqualTo(Duration.ofMinutes(5));
    assertThat(settings.links()).isEqualTo(EndpointLinks.NETLINK);
  }

  @Test
  void settingsComeFromFlagsAndVariables() {
    AgentConfig.EndpointSettings settings =
        read(
                Map.of("MESHWORK_POD_CIDR", "10.1.3.0/24", "MESHWORK_ENDPOINT_MTU", "1400"),
                "--endpoint-manager=enabled",
                "--endpoint-state-dir=/var/lib/meshwork/node-a/endpoints",
                "--endpoint-identity-timeout=5s",
                "--pod-cidr-timeout=2m",
                "--endpoint-links=ip")
            .endpoints();

    assertThat(settings.management()).isEqualTo(EndpointManagement.ENABLED);
    assertThat(settings.stateDir()).isEqualTo(Path.of("/var/lib/meshwork/node-a/endpoints"));
    assertThat(settings.mtu()).isEqualTo(1400);
    assertThat(settings.identityTimeout()).isEqualTo(Duration.ofSeconds(5));
    assertThat(settings.podCidr()).contains(IpPrefix.parse("10.1.3.0/24"));
    assertThat(settings.podCidrTimeout()).isEqualTo(Duration.ofMinutes(2));
    assertThat(settings.links()).isEqualTo(EndpointLinks.IP);
    assertThat(settings.endpointConfig(IpPrefix.parse("10.1.3.0/24")))
        .isEqualTo(new EndpointConfig(IpPrefix.parse("10.1.3.0/24"), Path.of("/var/lib/meshwork/node-a/endpoints"), 1400,
            Duration.ofSeconds(5)));
  }

  @Test
  void aPodCidrThatIsNotAnIpv4PrefixOrTooSmallIsRefusedNamingTheSetting() {
    assertThatThrownBy(() -> read(Map.of(), "--pod-cidr=10.1.3.0/33"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--pod-cidr")
        .hasMessageContaining("10.1.3.0/33");
    assertThatThrownBy(() -> read(Map.of(), "--pod-cidr=10.1.3.0/30"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--pod-cidr")
        .hasMessageContaining("too small");
    assertThatThrownBy(() -> read(Map.of(), "--pod-cidr=10.1.3.1/24"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("host bits");
  }

  @Test
  void anMtuOutsideWhatLinuxAcceptsIsRefused() {
    assertThatThrownBy(() -> read(Map.of(), "--endpoint-mtu=60"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("--endpoint-mtu");
  }

  @Test
  void anUnknownEndpointManagerChoiceIsRefusedListingTheChoices() {
    assertThatThrownBy(() -> read(Map.of(), "--endpoint-manager=always"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("endpoint-manager")
        .hasMessageContaining("auto, enabled, disabled");
    assertThatThrownBy(() -> read(Map.of(), "--endpoint-links=nsenter"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("endpoint-links")
        .hasMessageContaining("netlink, ip");
  }
}
