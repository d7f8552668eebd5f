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
}
