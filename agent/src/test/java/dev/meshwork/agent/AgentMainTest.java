package dev.meshwork.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

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
        .contains("--cluster-name", "MESHWORK_CLUSTER_NAME", "--clustermesh-config-dir", "--clustermesh-cache-ttl", "--api-socket", "--datapath");
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
  void bpfDatapathIsNotAvailableYetAndSaysSo() throws Exception {
    assertThat(run("--cluster-name=c1", "--cluster-id=1", "--node-name=n1", "--datapath=bpf")).isEqualTo(2);
    assertThat(err()).contains("--datapath=bpf").contains("not available yet");
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
}
