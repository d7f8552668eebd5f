package dev.meshwork.e2e.scenario;

import static dev.meshwork.e2e.scenario.BlogMesh.SHARED;
import static dev.meshwork.e2e.scenario.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The blog's mesh under change and failure: a backend added in the shared cluster receives the
 * test cluster's traffic; an established cross-cluster connection survives its node's agent
 * restarting; with the shared cluster's etcd down, existing connections keep flowing and new
 * requests to backend-svc still succeed (agents keep the remote state they had).
 */
@Tag("privileged")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MeshResiliencePrivilegedIT {

  private static BlogMesh mesh;

  @BeforeAll
  static void up() throws Exception {
    NetworkNamespaces.assumeRoot();
    mesh = BlogMesh.upWithBlogManifests();
  }

  @AfterAll
  static void down() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  @Order(1)
  void scaledUpBackendReceivesTrafficFromTheTestCluster() throws Exception {
    Set<String> before = mesh.podNames(SHARED, "backend");
    assertThat(before).hasSize(2);

    long scaled = System.nanoTime();
    mesh.sandbox.client(SHARED).apps().deployments().inNamespace("testing").withName("backend").scale(3);
    String added = await("a third backend pod running").atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> mesh.pods(SHARED, "backend").stream()
            .filter(p -> !before.contains(p.getMetadata().getName()))
            .filter(p -> p.getStatus() != null && p.getStatus().getPodIP() != null && isReady(p))
            .map(p -> p.getMetadata().getName()).findFirst().orElse(null), name -> name != null);
    long ready = System.nanoTime();

    Set<String> answers = new TreeSet<>();
    await("the new backend answers the test cluster's frontend").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> {
          mesh.request().ifPresent(answers::add);
          return answers.contains(added);
        });
    long answered = System.nanoTime();
    System.out.printf("benchmark: backend scaled to 3: pod %s ready %.2f s after the scale, first answer to the test "
        + "cluster %.2f s after it was ready%n", added, (ready - scaled) / 1e9, (answered - ready) / 1e9);
  }

  @Test
  @Order(2)
  void establishedConnectionSurvivesAnAgentRestart() throws Exception {
    try (EchoConnection connection = EchoConnection.open()) {
      assertThat(connection.roundTrip("before the restart")).isEqualTo("before the restart");

      mesh.sandbox.restartAgent(connection.frontend.node());

      assertThat(connection.roundTrip("after the restart")).isEqualTo("after the restart");
    }
    assertThat(mesh.request()).as("a new request after the restart").isPresent();
  }

  @Test
  @Order(3)
  void trafficKeepsFlowingWhileTheSharedClustersEtcdIsDown() throws Exception {
    try (EchoConnection connection = EchoConnection.open()) {
      assertThat(connection.roundTrip("etcd up")).isEqualTo("etcd up");
      mesh.sandbox.etcd(SHARED).stop(5_000);
      try {
        assertThat(connection.roundTrip("etcd down")).as("the established connection").isEqualTo("etcd down");
        Set<String> answers = new TreeSet<>();
        for (int i = 0; i < 6; i++) {
          answers.add(mesh.request().orElseThrow(() -> new AssertionError("a new request failed while etcd is down")));
        }
        assertThat(mesh.podNames(SHARED, "backend")).containsAll(answers);
      } finally {
        mesh.sandbox.restartEtcd(SHARED);
      }
    }
  }

  private static boolean isReady(Pod pod) {
    return pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * A TCP connection from a frontend pod (test cluster) straight to a backend pod's IP (shared
   * cluster, through the tunnel), to an echo server ({@code busybox nc -ll -e cat}) of the test's
   * own in the backend pod's namespace.
   */
  private static final class EchoConnection implements AutoCloseable {
    private static final int PORT = 4000;
    final PodRecord frontend;
    private final Process server;
    private final Process client;
    private final BufferedReader in;
    private final OutputStream out;

    private EchoConnection(PodRecord frontend, Process server, Process client) {
      this.frontend = frontend;
      this.server = server;
      this.client = client;
      this.in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      this.out = client.getOutputStream();
    }

    static EchoConnection open() throws IOException, InterruptedException {
      PodRecord backend = mesh.podRecord(SHARED, mesh.podNames(SHARED, "backend").iterator().next());
      PodRecord frontend = mesh.podRecord(TEST, mesh.podNames(TEST, "frontend").iterator().next());
      Process server = new ProcessBuilder(List.of("ip", "netns", "exec", backend.netns(), "busybox", "nc", "-ll", "-p",
          Integer.toString(PORT), "-e", "/bin/cat")).redirectErrorStream(true).start();
      Thread.sleep(300);
      Process client = new ProcessBuilder(List.of("ip", "netns", "exec", frontend.netns(), "busybox", "nc",
          backend.ip(), Integer.toString(PORT))).redirectErrorStream(true).start();
      return new EchoConnection(frontend, server, client);
    }

    String roundTrip(String line) throws Exception {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return CompletableFuture.supplyAsync(() -> {
        try {
          return in.readLine();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      client.destroyForcibly().waitFor();
      server.destroyForcibly().waitFor();
    }
  }
}
