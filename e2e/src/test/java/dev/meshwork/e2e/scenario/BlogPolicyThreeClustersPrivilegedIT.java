package dev.meshwork.e2e.scenario;

import static dev.meshwork.e2e.blog.BlogMesh.NAMESPACE;
import static dev.meshwork.e2e.blog.BlogMesh.PRODUCTION;
import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.io.IOException;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blog's {@code allow-only-production-cluster} policy, unchanged, with real packets between
 * three clusters: frontends of k8s-production-cluster reach the shared cluster's backends, those of
 * k8s-test-cluster do not; once the policy is deleted, both get in again.
 */
@Tag("privileged")
class BlogPolicyThreeClustersPrivilegedIT {

  private static final String POLICY = "allow-only-production-cluster";

  private static BlogMesh mesh;

  @BeforeAll
  static void up() throws Exception {
    NetworkNamespaces.assumeRoot();
    mesh = BlogMesh.upThreeClustersWithBlogManifests("mwt-pol-", 200, 250);
  }

  @AfterAll
  static void down() {
    if (mesh != null) {
      mesh.close();
    }
  }

  @Test
  void onlyTheProductionClustersFrontendsReachTheBackendsWhileTheBlogPolicyIsInForce() throws Exception {
    assertThat(answer(TEST)).as("the test cluster's frontend before the policy").isPresent();
    assertThat(answer(PRODUCTION)).as("the production cluster's frontend before the policy").isPresent();

    mesh.apply(SHARED, "k8s-shared-cluster-policy.yaml");

    await("the test cluster's requests denied").atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500))
        .until(() -> answer(TEST).isEmpty());
    for (int i = 0; i < 3; i++) {
      assertThat(answer(TEST)).as("the test cluster's frontend under the policy").isEmpty();
      assertThat(answer(PRODUCTION)).as("the production cluster's frontend under the policy")
          .hasValueSatisfying(pod -> assertThat(mesh.podNames(SHARED, "backend")).contains(pod));
    }

    mesh.sandbox.client(SHARED).genericKubernetesResources("cilium.io/v2", "CiliumNetworkPolicy")
        .inNamespace(NAMESPACE).withName(POLICY).delete();

    await("the test cluster's requests answered again").atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(500))
        .until(() -> answer(TEST).isPresent());
    assertThat(answer(PRODUCTION)).as("the production cluster's frontend after the policy").isPresent();
  }

  private static Optional<String> answer(String cluster) throws IOException {
    return mesh.request(cluster);
  }
}
