package dev.meshwork.e2e.scenario;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.e2e.sandbox.Manifests;
import dev.meshwork.e2e.sandbox.SandboxCli;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The k3s variant, where a Docker engine exists (skipped otherwise, with a message): the blog's
 * Services and policy, applied with the sandbox's own {@code apply}, are accepted by a real
 * Kubernetes API server as they are by the sandbox's mock API (global annotation kept, a
 * ClusterIP assigned, the CiliumNetworkPolicy stored under the agent's CRD).
 *
 * <p>Not done: the whole blog scenario on two k3s clusters (Meshwork's images loaded into k3s,
 * the chart installed instead of flannel, the Deployments given a container). The blog's
 * Deployment fragments have no containers, which a real API server rejects.
 */
class BlogManifestsK3sIT {

  private static K3sContainer k3s;
  private static KubernetesClient client;

  @BeforeAll
  static void startK3s() {
    boolean docker;
    try {
      docker = DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      docker = false;
    }
    Assumptions.assumeTrue(docker, "no Docker engine on this machine: the k3s variant is skipped "
        + "(the sandbox scenarios BlogScenarioPrivilegedIT and MeshResiliencePrivilegedIT run without Docker)");
    k3s = new K3sContainer(DockerImageName.parse("rancher/k3s:v1.31.4-k3s1"));
    k3s.start();
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml())).build();
  }

  @AfterAll
  static void stopK3s() {
    if (client != null) {
      client.close();
    }
    if (k3s != null) {
      k3s.stop();
    }
  }

  @Test
  void blogServicesAndPolicyAreAcceptedByARealApiServer() throws Exception {
    try (InputStream crd = BlogManifestsK3sIT.class.getResourceAsStream("/crds/ciliumnetworkpolicies.cilium.io.yaml")) {
      CustomResourceDefinition definition = client.apiextensions().v1().customResourceDefinitions().load(crd).item();
      client.apiextensions().v1().customResourceDefinitions().resource(definition).create();
    }
    Path blog = SandboxCli.home().resolve("examples/blog");
    Path services = java.nio.file.Files.createTempFile("blog-services", ".yaml");
    // The Services of the test cluster's file (its Deployment fragment has no container).
    java.nio.file.Files.writeString(services, String.join("\n---\n", List.of(
        section(blog.resolve("k8s-test-cluster.yaml"), "name: frontend-svc"),
        section(blog.resolve("k8s-test-cluster.yaml"), "name: backend-svc"))));

    Manifests.apply(client, services);
    Manifests.apply(client, blog.resolve("k8s-shared-cluster-policy.yaml"));

    Service backend = client.services().inNamespace("testing").withName("backend-svc").get();
    assertThat(backend.getMetadata().getAnnotations()).containsEntry("io.cilium/global-service", "true");
    assertThat(backend.getSpec().getClusterIP()).isNotBlank();
    assertThat(client.genericKubernetesResources(dev.meshwork.agent.policy.PolicyWatcher.CILIUM_NETWORK_POLICY)
        .inNamespace("testing").withName("allow-only-production-cluster").get()).isNotNull();
  }

  private static String section(Path file, String marker) throws java.io.IOException {
    for (String document : java.nio.file.Files.readString(file).split("(?m)^---$")) {
      if (document.contains(marker) && document.contains("kind: Service")) {
        return document.strip();
      }
    }
    throw new AssertionError(marker + " not in " + file);
  }
}
