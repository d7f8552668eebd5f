package dev.meshwork.e2e.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ManifestsTest {

  @TempDir Path temp;
  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void startApi() throws Exception {
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new KubernetesMixedDispatcher(new HashMap<>()), false);
    server.init();
    client = server.createClient();
    try (InputStream crd = getClass().getResourceAsStream("/crds/ciliumnetworkpolicies.cilium.io.yaml")) {
      CustomResourceDefinition definition = client.apiextensions().v1().customResourceDefinitions().load(crd).item();
      client.apiextensions().v1().customResourceDefinitions().resource(definition).create();
    }
  }

  @AfterEach
  void stopApi() {
    client.close();
    server.destroy();
  }

  @Test
  void appliesTheBlogsSharedClusterFileCreatingTheNamespaceAndEveryObject() throws Exception {
    Path file = SandboxCli.home().resolve("examples/blog/k8s-shared-cluster.yaml");

    assertThat(Manifests.apply(client, file))
        .containsExactly("namespace/testing created", "deployment/backend created", "service/backend-svc created");

    assertThat(client.apps().deployments().inNamespace("testing").withName("backend").get().getSpec().getReplicas())
        .isEqualTo(2);
    assertThat(client.services().inNamespace("testing").withName("backend-svc").get().getMetadata().getAnnotations())
        .containsEntry("io.cilium/global-service", "true");
  }

  @Test
  void createsAMissingNamespaceAndReplacesExistingObjects() throws Exception {
    Path policy = SandboxCli.home().resolve("examples/blog/k8s-shared-cluster-policy.yaml");

    assertThat(Manifests.apply(client, policy))
        .containsExactly("namespace/testing created", "ciliumnetworkpolicy/allow-only-production-cluster created");
    assertThat(Manifests.apply(client, policy))
        .containsExactly("ciliumnetworkpolicy/allow-only-production-cluster configured");
  }

  @Test
  void aFileThatIsNotAManifestIsRefusedNamingTheFile() throws Exception {
    Path file = Files.writeString(temp.resolve("broken.yaml"), "kind: [\n");

    assertThatThrownBy(() -> Manifests.apply(client, file)).hasMessageContaining(file + " is not a Kubernetes manifest");
  }

  @Test
  void podTargetsAreClusterNamespaceAndPod() {
    assertThat(PodExec.Target.parse("k8s-test-cluster/testing/frontend"))
        .isEqualTo(new PodExec.Target("k8s-test-cluster", "testing", "frontend"));
    assertThat(PodExec.Target.parse("k8s-test-cluster/frontend"))
        .isEqualTo(new PodExec.Target("k8s-test-cluster", "default", "frontend"));
    assertThatThrownBy(() -> PodExec.Target.parse("frontend")).hasMessageContaining("is not CLUSTER/[NAMESPACE/]POD");
  }
}
