package dev.meshwork.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.policy.PolicyConfig;
import dev.meshwork.agent.policy.PolicyEngine;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.PolicyKey;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the reconciler programs the policy engine's output: order of batches, and when it may start. */
class PolicyReconcileTest {
  static final String LOCAL = "k8s-shared-cluster";
  static final int BACKEND_IP = Ipv4.parse("10.1.0.10");
  static final int BACKEND_ID = 1 << 16 | 256;
  static final int FRONTEND_ID = 1 << 16 | 300;
  static final List<String> BACKEND_LABELS =
      List.of("k8s:app=backend", "k8s:io.kubernetes.pod.namespace=testing", "k8s:io.cilium.k8s.policy.cluster=" + LOCAL);
  static final List<String> FRONTEND_LABELS =
      List.of("k8s:app=frontend", "k8s:io.kubernetes.pod.namespace=testing", "k8s:io.cilium.k8s.policy.cluster=" + LOCAL);
  static final String POLICY =
      """
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata: {namespace: testing, name: frontend-to-backend}
      spec:
        endpointSelector: {matchLabels: {app: backend}}
        ingress: [{fromEndpoints: [{matchLabels: {app: frontend}}]}]
      """;

  final RecordingDatapath datapath = new RecordingDatapath();
  final PolicyEngine engine = new PolicyEngine(new PolicyConfig(LOCAL, true), new SimpleMeterRegistry());
  final AtomicBoolean policiesListed = new AtomicBoolean();
  DatapathReconciler reconciler;

  @BeforeEach
  void start() throws Exception {
    reconciler =
        new DatapathReconciler(
            datapath, new NodeTable(LOCAL), new IpCacheTable(LOCAL), new ServiceTable(LOCAL), "node-1", new SimpleMeterRegistry());
    reconciler.attachPolicy(engine, id -> id == BACKEND_ID ? BACKEND_LABELS : List.of(), policiesListed::get);
    reconciler.start();
    engine.upsertIdentity(BACKEND_ID, BACKEND_LABELS);
    engine.upsertIdentity(FRONTEND_ID, FRONTEND_LABELS);
  }

  @AfterEach
  void stop() {
    reconciler.stop();
  }

  void settle() throws InterruptedException {
    assertThat(reconciler.awaitIdle(Duration.ofSeconds(10))).as("reconciler idle").isTrue();
  }

  @Test
  void enforcementIsTurnedOnOnlyInTheBatchAfterTheAllowedKeys() throws Exception {
    policiesListed.set(true);
    reconciler.restoreComplete();
    reconciler.upsertEndpoint(new Endpoint(7, BACKEND_IP, "lxc7", BACKEND_ID, false, false));
    engine.upsertCiliumNetworkPolicy(new KubernetesSerialization().unmarshal(POLICY, GenericKubernetesResource.class));
    reconciler.kick();
    settle();

    PolicyKey allowed = new PolicyKey(BACKEND_IP, PolicyKey.Direction.INGRESS, FRONTEND_ID, 0, null);
    assertThat(datapath.fake.snapshot().policy()).containsExactly(allowed);
    assertThat(datapath.fake.snapshot().endpoints().get(BACKEND_IP).ingressEnforced()).isTrue();
    int allowBatch = indexOf(b -> b.policyAllows().contains(allowed));
    int enforceBatch = indexOf(b -> b.endpointUpserts().stream().anyMatch(Endpoint::ingressEnforced));
    assertThat(allowBatch).isNotNegative().isLessThan(enforceBatch);
  }

  @Test
  void failedPolicyBatchesAreRetriedUntilKeysAndEnforcementAreProgrammed() throws Exception {
    policiesListed.set(true);
    reconciler.restoreComplete();
    reconciler.upsertEndpoint(new Endpoint(7, BACKEND_IP, "lxc7", BACKEND_ID, false, false));
    settle();
    // The allow batch and the enforcement batch of the first attempt both fail.
    datapath.failNext.set(2);
    engine.upsertCiliumNetworkPolicy(new KubernetesSerialization().unmarshal(POLICY, GenericKubernetesResource.class));
    reconciler.kick();

    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () -> {
              assertThat(datapath.fake.snapshot().policy())
                  .containsExactly(new PolicyKey(BACKEND_IP, PolicyKey.Direction.INGRESS, FRONTEND_ID, 0, null));
              assertThat(datapath.fake.snapshot().endpoints().get(BACKEND_IP).ingressEnforced()).isTrue();
            });
  }

  @Test
  void nothingIsDrainedBeforeThePoliciesAndEveryClusterHaveBeenListed() throws Exception {
    reconciler.upsertEndpoint(new Endpoint(7, BACKEND_IP, "lxc7", BACKEND_ID, false, false));
    engine.upsertCiliumNetworkPolicy(new KubernetesSerialization().unmarshal(POLICY, GenericKubernetesResource.class));
    reconciler.kick();
    reconciler.restoreComplete();
    settle();
    assertThat(datapath.fake.snapshot().policy()).as("policies not listed yet").isEmpty();

    policiesListed.set(true);
    // No event needed: the reconciler looks again by itself while policy waits.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(datapath.fake.snapshot().policy()).hasSize(1));
  }

  @Test
  void anEndpointAddedBeforeItsIdentityIsKnownIsSelectedOnceTheIdentityArrives() throws Exception {
    policiesListed.set(true);
    reconciler.restoreComplete();
    engine.upsertCiliumNetworkPolicy(new KubernetesSerialization().unmarshal(POLICY, GenericKubernetesResource.class));
    int unknownYet = 1 << 16 | 999;
    reconciler.upsertEndpoint(new Endpoint(8, BACKEND_IP, "lxc8", unknownYet, false, false));
    settle();
    assertThat(datapath.fake.snapshot().endpoints().get(BACKEND_IP).ingressEnforced()).isFalse();

    reconciler.identityChanged(unknownYet, BACKEND_LABELS);
    settle();
    assertThat(datapath.fake.snapshot().endpoints().get(BACKEND_IP).ingressEnforced()).isTrue();
  }

  @Test
  void theEndpointManagersSinkGoesThroughTheReconcilerWhichOwnsTheFlags() throws Exception {
    policiesListed.set(true);
    reconciler.restoreComplete();
    ReconcilerEndpointSink sink = new ReconcilerEndpointSink(reconciler);
    // Flags handed in by the endpoint manager are not trusted: enforcement follows policy only.
    sink.upsert(new Endpoint(9, BACKEND_IP, "lxc9", BACKEND_ID, true, true));
    settle();
    assertThat(sink.programmed(BACKEND_IP)).hasValueSatisfying(e -> {
      assertThat(e.ingressEnforced()).isFalse();
      assertThat(e.egressEnforced()).isFalse();
    });
    assertThat(engine.enforcement(BACKEND_IP)).isPresent();

    sink.delete(BACKEND_IP);
    settle();
    assertThat(sink.programmed(BACKEND_IP)).isEmpty();
    assertThat(datapath.fake.snapshot().endpoints()).doesNotContainKey(BACKEND_IP);
    assertThat(engine.enforcement(BACKEND_IP)).isEmpty();
  }

  int indexOf(java.util.function.Predicate<ChangeSet> p) {
    for (int i = 0; i < datapath.batches.size(); i++) {
      if (p.test(datapath.batches.get(i))) return i;
    }
    return -1;
  }
}
