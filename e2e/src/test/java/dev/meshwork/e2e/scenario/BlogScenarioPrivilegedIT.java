package dev.meshwork.e2e.scenario;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
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
 * The blog, end to end in the sandbox: k8s-test-cluster and k8s-shared-cluster meshed; the shared
 * cluster runs the backends behind the global backend-svc, the test cluster's frontends call
 * backend-svc.testing.svc.cluster.local and are answered by both shared backends; the blog's
 * policy (only k8s-production-cluster's frontends) then denies them.
 */
@Tag("privileged")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class BlogScenarioPrivilegedIT {

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
  void testClusterAgentSeesEveryNodeTheTunnelsAndBothSharedBackends() {
    String nodes = mesh.meshwork("test-1", "node", "list");
    assertThat(nodes).contains("test-1", "test-2", "k8s-shared-cluster/shared-1", "k8s-shared-cluster/shared-2");

    String tunnels = mesh.meshwork("test-1", "bpf", "tunnel", "list");
    assertThat(tunnels).contains(mesh.nodeAddress("shared-1"), mesh.nodeAddress("shared-2"), mesh.nodeAddress("test-2"));

    String clusterIp = mesh.sandbox.client(TEST).services().inNamespace("testing").withName("backend-svc").get()
        .getSpec().getClusterIP();
    String services = mesh.meshwork("test-1", "service", "list");
    assertThat(services).contains(clusterIp + ":80/TCP");
    for (Pod backend : mesh.pods(SHARED, "backend")) {
      assertThat(services).contains(backend.getStatus().getPodIP() + ":3000/TCP");
    }
  }

  @Test
  @Order(2)
  void frontendIsAnsweredByBothBackendsOfTheSharedCluster() throws Exception {
    Set<String> backends = mesh.podNames(SHARED, "backend");
    assertThat(backends).hasSize(2);

    Set<String> answers = new TreeSet<>();
    for (int i = 0; i < 30 && !answers.equals(backends); i++) {
      answers.add(mesh.request().orElseThrow(() -> new AssertionError("backend-svc did not answer")));
    }

    assertThat(answers).isEqualTo(backends);
  }

  @Test
  @Order(3)
  void blogPolicyDeniesTheTestClustersFrontends() throws Exception {
    assertThat(mesh.request()).isPresent();

    mesh.apply(SHARED, "k8s-shared-cluster-policy.yaml");

    await("the frontend's requests denied").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
        .until(() -> mesh.request().isEmpty());
    assertThat(mesh.answersOf(3)).as("answers after the policy").isEmpty();
    assertThat(mesh.meshwork("shared-1", "policy", "get"))
        .contains("testing/allow-only-production-cluster");
  }
}
