package dev.meshwork.e2e.scenario;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.e2e.blog.EchoConnection;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
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
    PodRecord frontend = mesh.podRecords(TEST, "frontend").getFirst();
    try (EchoConnection connection = openEchoConnection(frontend)) {
      assertThat(connection.roundTrip("before the restart", ECHO_TIMEOUT)).isEqualTo("before the restart");

      mesh.sandbox.restartAgent(frontend.node());

      assertThat(connection.roundTrip("after the restart", ECHO_TIMEOUT)).isEqualTo("after the restart");
    }
    assertThat(mesh.request()).as("a new request after the restart").isPresent();
  }

  @Test
  @Order(3)
  void trafficKeepsFlowingWhileTheSharedClustersEtcdIsDown() throws Exception {
    try (EchoConnection connection = openEchoConnection(mesh.podRecords(TEST, "frontend").getFirst())) {
      assertThat(connection.roundTrip("etcd up", ECHO_TIMEOUT)).isEqualTo("etcd up");
      mesh.sandbox.etcd(SHARED).stop(5_000);
      try {
        assertThat(connection.roundTrip("etcd down", ECHO_TIMEOUT)).as("the established connection").isEqualTo("etcd down");
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

  private static final Duration ECHO_TIMEOUT = Duration.ofSeconds(10);

  /**
   * A TCP connection from {@code frontend} (test cluster) straight to a backend pod's IP (shared
   * cluster, through the tunnel), to an echo server of the test's own in the backend pod.
   */
  private static EchoConnection openEchoConnection(PodRecord frontend) throws Exception {
    return EchoConnection.open(mesh.podRecords(SHARED, "backend").getFirst(), frontend, 4000);
  }
}
