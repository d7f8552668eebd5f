package dev.meshwork.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Policies created, changed and deleted in the (mock, CRUD) API server reach the engine. */
@EnableKubernetesMockClient(crud = true)
class PolicyWatcherIT {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void blogPolicyAndNetworkPolicyComeAndGoThroughTheInformers() {
    CustomResourceDefinition crd =
        client
            .apiextensions()
            .v1()
            .customResourceDefinitions()
            .load(getClass().getResourceAsStream("/crds/ciliumnetworkpolicies.cilium.io.yaml"))
            .item();
    client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    PolicyEngine engine = PolicyFixtures.engine(PolicyFixtures.SHARED);
    AtomicInteger changes = new AtomicInteger();

    try (PolicyWatcher watcher = new PolicyWatcher(client, engine, changes::incrementAndGet)) {
      watcher.start();
      await().atMost(Duration.ofSeconds(20)).until(watcher::hasSynced);

      client
          .genericKubernetesResources(PolicyWatcher.CILIUM_NETWORK_POLICY)
          .inNamespace("testing")
          .resource(PolicyFixtures.cnp(AllowOnlyProductionClusterTest.BLOG_POLICY))
          .create();
      client
          .network()
          .v1()
          .networkPolicies()
          .inNamespace("testing")
          .resource(
              PolicyFixtures.networkPolicy(
                  """
                  apiVersion: networking.k8s.io/v1
                  kind: NetworkPolicy
                  metadata: {namespace: testing, name: broken}
                  spec:
                    podSelector: {}
                    ingress: [{from: [{ipBlock: {cidr: 198.18.0.0/16}}]}]
                  """))
          .create();

      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () ->
                  assertThat(engine.statuses())
                      .extracting(PolicyStatus::name, PolicyStatus::valid)
                      .containsExactlyInAnyOrder(
                          org.assertj.core.groups.Tuple.tuple("allow-only-production-cluster", true),
                          org.assertj.core.groups.Tuple.tuple("broken", false)));

      client
          .genericKubernetesResources(PolicyWatcher.CILIUM_NETWORK_POLICY)
          .inNamespace("testing")
          .withName("allow-only-production-cluster")
          .delete();
      await()
          .atMost(Duration.ofSeconds(20))
          .untilAsserted(
              () -> assertThat(engine.statuses()).extracting(PolicyStatus::name).containsExactly("broken"));
      assertThat(changes.get()).isGreaterThanOrEqualTo(3);
    }
  }

  @Test
  void aWatcherStartedBeforeItsApiServerIsUpListsOnceTheServerAnswers() throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    KubernetesMockServer late = new KubernetesMockServer(
        new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(), new java.util.HashMap<>(),
        new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(java.util.List.of()), false);
    PolicyEngine engine = PolicyFixtures.engine(PolicyFixtures.SHARED);
    try (KubernetesClient lateClient = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
            .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder()
                .withMasterUrl("http://127.0.0.1:" + port).withRequestRetryBackoffLimit(0).build())
            .build();
        PolicyWatcher watcher = new PolicyWatcher(lateClient, engine, () -> {})) {
      watcher.start(); // returns although nothing answers yet
      Thread.sleep(1_500); // at least one failed list
      assertThat(watcher.hasSynced()).isFalse();

      late.init(java.net.InetAddress.getLoopbackAddress(), port);
      try {
        KubernetesClient admin = late.createClient();
        admin.apiextensions().v1().customResourceDefinitions()
            .resource(admin.apiextensions().v1().customResourceDefinitions()
                .load(getClass().getResourceAsStream("/crds/ciliumnetworkpolicies.cilium.io.yaml")).item())
            .create();
        admin.genericKubernetesResources(PolicyWatcher.CILIUM_NETWORK_POLICY).inNamespace("testing")
            .resource(PolicyFixtures.cnp(AllowOnlyProductionClusterTest.BLOG_POLICY)).create();

        await().atMost(Duration.ofSeconds(60)).until(watcher::hasSynced);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(
            () -> assertThat(engine.statuses()).extracting(PolicyStatus::name).containsExactly("allow-only-production-cluster"));
      } finally {
        late.destroy();
      }
    }
  }
}
