package dev.meshwork.agent.policy;

import static dev.meshwork.agent.policy.PolicyFixtures.PRODUCTION;
import static dev.meshwork.agent.policy.PolicyFixtures.SHARED;
import static dev.meshwork.agent.policy.PolicyFixtures.TEST;
import static dev.meshwork.agent.policy.PolicyFixtures.egress;
import static dev.meshwork.agent.policy.PolicyFixtures.identity;
import static dev.meshwork.agent.policy.PolicyFixtures.ingress;
import static dev.meshwork.agent.policy.PolicyFixtures.podLabels;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.Protocol;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Identity and endpoint events change exactly the keys they concern, nothing more. */
class IncrementalPolicyTest {
  static final String BACKEND = "10.1.0.10";
  static final String BACKEND_2 = "10.1.0.11";
  static final int BACKEND_ID = identity(SHARED, 256);

  static final String POLICY =
      """
      apiVersion: cilium.io/v2
      kind: CiliumNetworkPolicy
      metadata: {namespace: testing, name: frontends-anywhere}
      spec:
        endpointSelector: {matchLabels: {app: backend}}
        ingress:
        - fromEndpoints:
          - matchLabels: {app: frontend}
            matchExpressions:
            - {key: io.cilium.k8s.policy.cluster, operator: In, values: [k8s-production-cluster, k8s-shared-cluster]}
          toPorts:
          - ports: [{port: "8080", protocol: TCP}, {port: "8443", protocol: TCP}]
        egress:
        - toEntities: [world]
      """;

  PolicyFixtures.Node node;

  @BeforeEach
  void backendWithPolicy() {
    node = new PolicyFixtures.Node(PolicyFixtures.engine(SHARED));
    node.addPod(BACKEND, BACKEND_ID, podLabels(SHARED, "testing", "app", "backend"));
    node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(POLICY));
    node.sync();
    assertThat(node.snapshot().policy()).containsExactly(egress(BACKEND, 2, 0, null));
  }

  @Test
  void newRemoteIdentityThatMatchesAddsExactlyItsKeys() {
    int frontend = identity(PRODUCTION, 400);

    node.engine.upsertIdentity(frontend, podLabels(PRODUCTION, "testing", "app", "frontend"));
    PolicyChanges changes = node.sync();

    assertThat(changes.allows())
        .containsExactly(ingress(BACKEND, frontend, 8080, Protocol.TCP), ingress(BACKEND, frontend, 8443, Protocol.TCP));
    assertThat(changes.revokes()).isEmpty();
    assertThat(changes.enforcement()).isEmpty();
  }

  @Test
  void removedIdentityRevokesExactlyItsKeys() {
    int kept = identity(SHARED, 401);
    int removed = identity(PRODUCTION, 400);
    node.engine.upsertIdentity(kept, podLabels(SHARED, "testing", "app", "frontend"));
    node.engine.upsertIdentity(removed, podLabels(PRODUCTION, "testing", "app", "frontend"));
    node.sync();

    node.engine.deleteIdentity(removed);
    PolicyChanges changes = node.sync();

    assertThat(changes.revokes())
        .containsExactly(ingress(BACKEND, removed, 8080, Protocol.TCP), ingress(BACKEND, removed, 8443, Protocol.TCP));
    assertThat(changes.allows()).isEmpty();
    assertThat(node.snapshot().policy())
        .containsExactlyInAnyOrder(
            egress(BACKEND, 2, 0, null), ingress(BACKEND, kept, 8080, Protocol.TCP), ingress(BACKEND, kept, 8443, Protocol.TCP));
  }

  @Test
  void identityThatDoesNotMatchChangesNothing() {
    node.engine.upsertIdentity(identity(TEST, 400), podLabels(TEST, "testing", "app", "frontend"));
    node.engine.upsertIdentity(identity(PRODUCTION, 401), podLabels(PRODUCTION, "other", "app", "frontend"));

    assertThat(node.sync().isEmpty()).isTrue();
  }

  @Test
  void identityThatAppearsAndGoesBeforeTheDrainLeavesNoTrace() {
    int brief = identity(PRODUCTION, 402);
    node.engine.upsertIdentity(brief, podLabels(PRODUCTION, "testing", "app", "frontend"));
    node.engine.deleteIdentity(brief);

    assertThat(node.sync().isEmpty()).isTrue();
  }

  @Test
  void keyAllowedByTwoRulesStaysUntilTheLastRuleGoes() {
    int frontend = identity(SHARED, 403);
    node.engine.upsertIdentity(frontend, podLabels(SHARED, "testing", "app", "frontend"));
    node.engine.upsertCiliumNetworkPolicy(
        PolicyFixtures.cnp(
            """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {namespace: testing, name: also-8080}
            spec:
              endpointSelector: {}
              ingress:
              - fromEndpoints: [{matchLabels: {"k8s:app": frontend}}]
                toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
            """));
    node.sync();

    node.engine.deletePolicy(new PolicyRef(PolicyRef.Kind.CILIUM_NETWORK_POLICY, "testing", "frontends-anywhere"));
    PolicyChanges changes = node.sync();

    assertThat(changes.revokes())
        .containsExactlyInAnyOrder(egress(BACKEND, 2, 0, null), ingress(BACKEND, frontend, 8443, Protocol.TCP));
    assertThat(node.snapshot().policy()).containsExactly(ingress(BACKEND, frontend, 8080, Protocol.TCP));
    assertThat(changes.enforcement()).containsExactly(new PolicyChanges.EndpointEnforcement(PolicyFixtures.ip(BACKEND), true, false));
  }

  @Test
  void newLocalEndpointGetsTheRulesThatSelectItAndDeletedEndpointLosesThem() {
    int frontend = identity(PRODUCTION, 400);
    node.engine.upsertIdentity(frontend, podLabels(PRODUCTION, "testing", "app", "frontend"));
    node.sync();

    node.addPod(BACKEND_2, identity(SHARED, 257), podLabels(SHARED, "testing", "app", "backend", "version", "2"));
    PolicyChanges added = node.sync();
    assertThat(added.allows())
        .containsExactlyInAnyOrder(
            ingress(BACKEND_2, frontend, 8080, Protocol.TCP),
            ingress(BACKEND_2, frontend, 8443, Protocol.TCP),
            egress(BACKEND_2, 2, 0, null));
    assertThat(added.enforcement())
        .containsExactly(new PolicyChanges.EndpointEnforcement(PolicyFixtures.ip(BACKEND_2), true, true));

    node.engine.deleteEndpoint(PolicyFixtures.ip(BACKEND_2));
    PolicyChanges removed = node.engine.drain();
    assertThat(removed.revokes()).containsExactlyInAnyOrderElementsOf(added.allows());
  }

  @Test
  void allClustersFlagLetsAnUnscopedSelectorMatchRemoteClusters() {
    String policy =
        """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {namespace: testing, name: unscoped}
        spec:
          endpointSelector: {matchLabels: {app: backend}}
          ingress:
          - fromEndpoints: [{matchLabels: {app: frontend}}]
        """;
    int local = identity(SHARED, 500);
    int remote = identity(TEST, 500);
    for (boolean defaultLocal : new boolean[] {true, false}) {
      PolicyFixtures.Node n =
          new PolicyFixtures.Node(new PolicyEngine(new PolicyConfig(SHARED, defaultLocal), new SimpleMeterRegistry()));
      n.addPod(BACKEND, BACKEND_ID, podLabels(SHARED, "testing", "app", "backend"));
      n.engine.upsertIdentity(local, podLabels(SHARED, "testing", "app", "frontend"));
      n.engine.upsertIdentity(remote, podLabels(TEST, "testing", "app", "frontend"));
      n.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(policy));
      n.sync();

      assertThat(n.snapshot().policy())
          .as("policy-default-local-cluster=" + defaultLocal)
          .containsExactlyInAnyOrderElementsOf(
              defaultLocal
                  ? List.of(ingress(BACKEND, local, 0, null))
                  : List.of(ingress(BACKEND, local, 0, null), ingress(BACKEND, remote, 0, null)));
    }
  }

  @Test
  void namespaceLabelInTheSelectorReachesAnotherNamespace() {
    int monitoring = identity(SHARED, 600);
    node.engine.upsertIdentity(monitoring, podLabels(SHARED, "monitoring", "app", "prometheus"));
    node.engine.upsertCiliumNetworkPolicy(
        PolicyFixtures.cnp(
            """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {namespace: testing, name: scrape}
            spec:
              endpointSelector: {matchLabels: {app: backend}}
              ingress:
              - fromEndpoints:
                - matchLabels: {"k8s:io.kubernetes.pod.namespace": monitoring, "any:app": prometheus}
                toPorts: [{ports: [{port: "9090"}]}]
            """));

    assertThat(node.sync().allows()).containsExactly(ingress(BACKEND, monitoring, 9090, null));
  }

  @Test
  void entitiesResolveToReservedIdentitiesAndTheLocalCluster() {
    int localPeer = identity(SHARED, 700);
    int remotePeer = identity(PRODUCTION, 700);
    node.engine.upsertIdentity(localPeer, podLabels(SHARED, "elsewhere", "app", "x"));
    node.engine.upsertIdentity(remotePeer, podLabels(PRODUCTION, "elsewhere", "app", "x"));
    node.engine.upsertCiliumNetworkPolicy(
        PolicyFixtures.cnp(
            """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {namespace: testing, name: entities}
            spec:
              endpointSelector: {matchLabels: {app: backend}}
              ingress:
              - fromEntities: [host, remote-node]
              - fromEntities: [cluster]
                toPorts: [{ports: [{port: "8080", protocol: TCP}]}]
              - fromEntities: [all]
                toPorts: [{ports: [{port: "80", protocol: TCP}]}]
            """));

    assertThat(node.sync().allows())
        .containsExactlyInAnyOrder(
            ingress(BACKEND, 0, 80, Protocol.TCP),
            ingress(BACKEND, 1, 0, null),
            ingress(BACKEND, 6, 0, null),
            ingress(BACKEND, 1, 8080, Protocol.TCP),
            ingress(BACKEND, 3, 8080, Protocol.TCP),
            ingress(BACKEND, 4, 8080, Protocol.TCP),
            ingress(BACKEND, 5, 8080, Protocol.TCP),
            ingress(BACKEND, 6, 8080, Protocol.TCP),
            ingress(BACKEND, 7, 8080, Protocol.TCP),
            ingress(BACKEND, BACKEND_ID, 8080, Protocol.TCP),
            ingress(BACKEND, localPeer, 8080, Protocol.TCP));
  }

  @Test
  void restartRevokesStaleKeysAndReportsEveryEndpoint() {
    node.engine.resetProgrammed(List.of(egress(BACKEND, 2, 0, null), ingress(BACKEND, 12345, 1, Protocol.UDP)));
    PolicyChanges changes = node.engine.drain();

    assertThat(changes.revokes()).containsExactly(ingress(BACKEND, 12345, 1, Protocol.UDP));
    assertThat(changes.allows()).isEmpty();
    assertThat(changes.enforcement())
        .containsExactly(new PolicyChanges.EndpointEnforcement(PolicyFixtures.ip(BACKEND), true, true));
  }

  @Test
  void endpointPolicyListsTheRulesInForce() {
    int frontend = identity(PRODUCTION, 400);
    node.engine.upsertIdentity(frontend, podLabels(PRODUCTION, "testing", "app", "frontend"));

    EndpointPolicy policy = node.engine.endpointPolicy(PolicyFixtures.ip(BACKEND)).orElseThrow();

    assertThat(policy.ingressEnforced()).isTrue();
    assertThat(policy.egressEnforced()).isTrue();
    assertThat(policy.rules()).hasSize(2);
    assertThat(policy.rules().getFirst().peerIdentities()).containsExactly(frontend);
    assertThat(policy.rules().getFirst().peers().getFirst())
        .contains("app=frontend", "io.kubernetes.pod.namespace=testing");
    assertThat(policy.rules().get(1).peers()).containsExactly("entity:world");
    assertThat(policy.allowed()).hasSize(3);
  }
}
