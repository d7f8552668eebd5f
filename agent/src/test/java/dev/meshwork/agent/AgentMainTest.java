package dev.meshwork.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AgentMainTest {
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  int run(String... args) throws InterruptedException {
    return AgentMain.run(args, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void helpListsEverySettingWithItsEnvironmentVariable() throws Exception {
    assertThat(run("--help")).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--cluster-name", "MESHWORK_CLUSTER_NAME", "--clustermesh-config-dir", "--clustermesh-cache-ttl", "--api-socket", "--datapath",
            "--bpffs-root", "--vxlan-device", "--external-devices", "--conntrack-gc-interval", "MESHWORK_CONNTRACK_TCP_IDLE",
            "--policy-enforcement", "--policy-default-local-cluster", "--local-services", "MESHWORK_CLUSTERMESH_SOURCE");
  }

  @Test
  void missingClusterNameStopsWithExitCode2NamingTheSetting() throws Exception {
    assertThat(run("--cluster-id=1", "--node-name=n1")).isEqualTo(2);
    assertThat(err()).contains("cluster-name");
  }

  @Test
  void clusterIdOutsideTheMeshRangeIsRefused() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=256", "--node-name=n1")).isEqualTo(2);
    assertThat(err()).contains("cluster-id");
  }

  @Test
  void misspeltFlagIsRefused() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--clustermesh-cache-tll=1m")).isEqualTo(2);
    assertThat(err()).contains("clustermesh-cache-tll");
  }

  @Test
  void bpfDatapathWithoutBpffsStopsWithExitCode2SayingWhatIsMissing(@TempDir Path notBpffs) throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--datapath=bpf", "--bpffs-root=" + notBpffs))
        .isEqualTo(2);
    assertThat(err()).contains("--datapath=bpf", "node n1", "capability missing: bpffs is not mounted");
    assertThat(notBpffs.resolve("n1")).as("nothing created before the probe").doesNotExist();
  }

  @Test
  void bpfSettingsComeFromFlagsAndVariables() {
    AgentConfig config = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=node.a", "--datapath=bpf",
            "--bpffs-root=/sys/fs/bpf/mw-test", "--vxlan-device=mw_vx", "--external-devices=eth0, eth1"},
        Map.of("MESHWORK_CONNTRACK_TCP_IDLE", "1h", "MESHWORK_DATAPATH_NETNS", "/run/netns/node-a")));
    assertThat(config.datapath()).isEqualTo(AgentConfig.DatapathKind.BPF);
    assertThat(config.bpf().conntrackTcpIdle()).isEqualTo(Duration.ofHours(1));
    assertThat(config.bpf().conntrackOtherIdle()).isEqualTo(Duration.ofSeconds(60));
    BpfDatapathConfig datapath = config.bpf().datapathConfig(config.nodeName());
    assertThat(datapath.nodeDirectory()).isEqualTo(Path.of("/sys/fs/bpf/mw-test/node_a"));
    assertThat(datapath.vxlanDevice()).isEqualTo("mw_vx");
    assertThat(datapath.vxlanPort()).isEqualTo(BpfDatapathConfig.DEFAULT_VXLAN_PORT);
    assertThat(datapath.externalDevices()).containsExactly("eth0", "eth1");
    assertThat(datapath.netns()).contains(Path.of("/run/netns/node-a"));
  }

  @Test
  void policySettingsDefaultToAutoAndCilium119sLocalClusterScope() {
    AgentConfig defaults = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1"}, Map.of()));
    assertThat(defaults.policyEnforcement()).isEqualTo(AgentConfig.PolicyEnforcement.AUTO);
    assertThat(defaults.policyDefaultLocalCluster()).isTrue();

    AgentConfig set = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1", "--policy-enforcement=disabled"},
        Map.of("MESHWORK_POLICY_DEFAULT_LOCAL_CLUSTER", "false")));
    assertThat(set.policyEnforcement()).isEqualTo(AgentConfig.PolicyEnforcement.DISABLED);
    assertThat(set.policyDefaultLocalCluster()).isFalse();
  }

  @Test
  void anUnknownPolicyEnforcementIsRefusedNamingTheSettingAndTheChoices() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--policy-enforcement=strict")).isEqualTo(2);
    assertThat(err()).contains("policy-enforcement", "strict", "auto", "enabled", "disabled");
  }

  @Test
  void bpfDefaultsAreThoseOfTheDatapath() {
    AgentConfig config = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1"}, Map.of()));
    assertThat(config.bpf().datapathConfig("n1"))
        .isEqualTo(BpfDatapathConfig.forNode("n1"));
  }

  @Test
  void aDeviceNameTheKernelWouldRefuseIsRefusedNamingTheSetting() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--vxlan-device=much-too-long-device")).isEqualTo(2);
    assertThat(err()).contains("--vxlan-device", "much-too-long-device");
    err.reset();
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--external-devices=eth0,bad/name")).isEqualTo(2);
    assertThat(err()).contains("--external-devices", "bad/name");
  }

  @Test
  void cacheTtlZeroMeansKeepForever() {
    AgentConfig config = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1", "--clustermesh-cache-ttl=0"}, Map.of()));
    assertThat(config.clustermeshCacheTtl()).isEmpty();
    AgentConfig withTtl = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1"}, Map.of("MESHWORK_CLUSTERMESH_CACHE_TTL", "10m")));
    assertThat(withTtl.clustermeshCacheTtl()).contains(Duration.ofMinutes(10));
    assertThat(withTtl.apiSocket()).isEqualTo(AgentConfig.DEFAULT_API_SOCKET);
  }

  @Test
  void remotesAreReadDirectlyAndLocalServicesFromTheApiUnlessSaidOtherwise() {
    AgentConfig defaults = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1"}, Map.of()));
    assertThat(defaults.clustermeshSource()).isEqualTo(AgentConfig.ClusterMeshSource.DIRECT);
    assertThat(defaults.localServices()).isEqualTo(AgentConfig.LocalServices.AUTO);

    AgentConfig set = AgentConfig.from(dev.meshwork.common.config.ConfigSource.of(
        new String[] {"--cluster-name=c1", "--cluster-id=7", "--node-name=n1", "--local-services=disabled"},
        Map.of("MESHWORK_CLUSTERMESH_SOURCE", "cache")));
    assertThat(set.clustermeshSource()).isEqualTo(AgentConfig.ClusterMeshSource.CACHE);
    assertThat(set.localServices()).isEqualTo(AgentConfig.LocalServices.DISABLED);
  }

  @Test
  void anUnknownClustermeshSourceIsRefusedNamingTheChoices() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--clustermesh-source=mirror")).isEqualTo(2);
    assertThat(err()).contains("clustermesh-source", "mirror", "direct", "cache");
  }

  @Test
  void cacheModeWithoutTheLocalEtcdStopsNamingTheSettingToSet(@TempDir Path dir) throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--clustermesh-source=cache",
            "--clustermesh-config-dir=" + dir, "--api-socket=" + dir.resolve("agent.sock"), "--metrics-port=0",
            "--policy-enforcement=disabled", "--local-services=disabled"))
        .isEqualTo(1);
    assertThat(err()).contains("--clustermesh-source=cache", "--kvstore-config");
  }
}
