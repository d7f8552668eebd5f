package dev.meshwork.kvstoresync;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.common.lifecycle.Lifecycle;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KvstoreSyncMainTest {
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int run(Map<String, String> env, String... args) throws Exception {
    return KvstoreSyncMain.run(args, env, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8),
        component -> component.lifecycle().stop());
  }

  @Test
  void badSettingExitsWith2AndNamesIt() throws Exception {
    int code = run(Map.of(), "--cluster-name=x", "--cluster-id=0");

    assertThat(code).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).startsWith(
        "meshwork-kvstore-sync: invalid --cluster-id (MESHWORK_CLUSTER_ID): \"0\" is outside 1..255\n"
            + "Run meshwork-kvstore-sync --help to list the settings.");
  }

  @Test
  void unknownFlagExitsWith2() throws Exception {
    assertThat(run(Map.of(), "--cluster-name=x", "--cluster-id=1", "--bogus")).isEqualTo(2);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("unknown flag --bogus");
  }

  @Test
  void helpListsEverySettingWithItsVariableAndExits0() throws Exception {
    assertThat(run(Map.of(), "--help")).isZero();

    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("--cluster-name (MESHWORK_CLUSTER_NAME)", "--cluster-id (MESHWORK_CLUSTER_ID)", "--kvstore-config (MESHWORK_KVSTORE_CONFIG)",
            "--clustermesh-config-dir (MESHWORK_CLUSTERMESH_CONFIG_DIR)", "--clustermesh-drain-grace (MESHWORK_CLUSTERMESH_DRAIN_GRACE)", "--metrics-port (MESHWORK_METRICS_PORT)");
  }

  @Test
  void missingLocalEtcdConfigFailsTheStartNamingTheFile(@TempDir Path dir) throws Exception {
    int code = run(Map.of(), "--cluster-name=cluster-1", "--cluster-id=1", "--metrics-port=0",
        "--kvstore-config=" + dir.resolve("etcd-config.yaml"), "--clustermesh-config-dir=" + dir);

    assertThat(code).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("local-etcd").contains("etcd-config.yaml");
  }

  @Test
  void startsServesMetricsAndStopsCleanly(@TempDir Path dir) throws Exception {
    AtomicReference<String> scraped = new AtomicReference<>();
    AtomicReference<Lifecycle> lifecycle = new AtomicReference<>();
    // Nothing listens there: building the client does not connect, and no remote is configured.
    Path etcdConfig = Files.writeString(dir.resolve("etcd-config.yaml"), "endpoints:\n- http://127.0.0.1:9\n");

    Path clustermesh = Files.createDirectory(dir.resolve("clustermesh"));

    int code = KvstoreSyncMain.run(new String[] {"--cluster-name=cluster-1", "--cluster-id=1", "--metrics-port=0",
            "--kvstore-config=" + etcdConfig, "--clustermesh-config-dir=" + clustermesh}, Map.of(),
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), component -> {
          lifecycle.set(component.lifecycle());
          try (HttpClient http = HttpClient.newHttpClient()) {
            int port = component.metricsServer().port();
            scraped.set(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
          } catch (Exception e) {
            throw new AssertionError(e);
          } finally {
            component.lifecycle().stop();
          }
        });

    assertThat(code).isZero();
    assertThat(scraped.get()).contains("cluster=\"cluster-1\"").contains("jvm_memory_used_bytes");
    assertThat(lifecycle.get().names()).contains("local-etcd", "clustermesh-mirror");
    assertThat(lifecycle.get().state()).isEqualTo(Lifecycle.State.STOPPED);
  }
}
