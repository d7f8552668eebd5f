package dev.meshwork.agent.policy;

import static dev.meshwork.agent.policy.PolicyFixtures.PRODUCTION;
import static dev.meshwork.agent.policy.PolicyFixtures.SHARED;
import static dev.meshwork.agent.policy.PolicyFixtures.TEST;
import static dev.meshwork.agent.policy.PolicyFixtures.identity;
import static dev.meshwork.agent.policy.PolicyFixtures.ingress;
import static dev.meshwork.agent.policy.PolicyFixtures.ip;
import static dev.meshwork.agent.policy.PolicyFixtures.podLabels;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The blog's closing example: backends in k8s-shared-cluster accept the frontends of
 * k8s-production-cluster and refuse those of k8s-test-cluster, through the blog's
 * CiliumNetworkPolicy exactly as published.
 */
class AllowOnlyProductionClusterTest {
  /** Copied unchanged from the blog (including the space after "database-service"). */
  static final String BLOG_POLICY =
      """
      apiVersion: "cilium.io/v2"
      kind: CiliumNetworkPolicy
      metadata:
        namespace: testing
        name: "allow-only-production-cluster"
      spec:
        description: "Allow cross-cluster communications to backend pods only from cluster named k8s-production-cluster"
        endpointSelector:
          matchLabels:
            app: backend
            role: database-service\s
            io.cilium.k8s.policy.cluster: k8s-shared-cluster
        ingress:
        - fromEndpoints:
          - matchLabels:
              app: frontend
              role: web-service
              io.cilium.k8s.policy.cluster: k8s-production-cluster
      """;

  static final String BACKEND = "10.1.0.10";
  static final int BACKEND_ID = identity(SHARED, 256);
  static final int TEST_FRONTEND_ID = identity(TEST, 300);
  static final int PRODUCTION_FRONTEND_ID = identity(PRODUCTION, 300);

  PolicyFixtures.Node sharedNode;

  @BeforeEach
  void meshOfThreeClusters() {
    sharedNode = new PolicyFixtures.Node(PolicyFixtures.engine(SHARED));
    sharedNode.addPod(
        BACKEND, BACKEND_ID, podLabels(SHARED, "testing", "app", "backend", "role", "database-service"));
    // The frontends live in the other clusters: this node learns only their identities.
    sharedNode.engine.upsertIdentity(
        TEST_FRONTEND_ID, podLabels(TEST, "testing", "app", "frontend", "role", "web-service"));
    sharedNode.engine.upsertIdentity(
        PRODUCTION_FRONTEND_ID, podLabels(PRODUCTION, "testing", "app", "frontend", "role", "web-service"));
    sharedNode.sync();
  }

  @Test
  void withoutPolicyBothFrontendsReachTheBackend() {
    assertThat(sharedNode.snapshot().endpoints().get(ip(BACKEND)).ingressEnforced()).isFalse();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, TEST_FRONTEND_ID, 8080, Protocol.TCP)).isTrue();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, PRODUCTION_FRONTEND_ID, 8080, Protocol.TCP)).isTrue();
  }

  @Test
  void blogPolicyLetsOnlyTheProductionFrontendsIn() {
    ParseResult result = sharedNode.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(BLOG_POLICY));
    sharedNode.sync();

    assertThat(result).isInstanceOf(ParseResult.Valid.class);
    assertThat(sharedNode.snapshot().policy())
        .containsExactly(ingress(BACKEND, PRODUCTION_FRONTEND_ID, 0, null));
    assertThat(sharedNode.snapshot().endpoints().get(ip(BACKEND)).ingressEnforced()).isTrue();
    assertThat(sharedNode.snapshot().endpoints().get(ip(BACKEND)).egressEnforced()).isFalse();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, PRODUCTION_FRONTEND_ID, 8080, Protocol.TCP)).isTrue();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, TEST_FRONTEND_ID, 8080, Protocol.TCP)).isFalse();
    assertThat(sharedNode.engine.statuses())
        .containsExactly(
            new PolicyStatus(
                "testing", "allow-only-production-cluster", "CiliumNetworkPolicy", true, java.util.List.of(),
                java.util.List.of(ip(BACKEND)), false));
  }

  @Test
  void removingThePolicyLetsBothFrontendsInAgain() {
    sharedNode.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(BLOG_POLICY));
    sharedNode.sync();

    sharedNode.engine.deletePolicy(
        new PolicyRef(PolicyRef.Kind.CILIUM_NETWORK_POLICY, "testing", "allow-only-production-cluster"));
    PolicyChanges changes = sharedNode.sync();

    assertThat(changes.revokes()).containsExactly(ingress(BACKEND, PRODUCTION_FRONTEND_ID, 0, null));
    assertThat(sharedNode.snapshot().policy()).isEmpty();
    assertThat(sharedNode.snapshot().endpoints().get(ip(BACKEND)).ingressEnforced()).isFalse();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, TEST_FRONTEND_ID, 8080, Protocol.TCP)).isTrue();
    assertThat(sharedNode.engine.statuses()).isEmpty();
  }

  @Test
  void aProductionFrontendThatAppearsLaterIsAllowedAtOnce() {
    sharedNode.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(BLOG_POLICY));
    sharedNode.sync();
    int newFrontend = identity(PRODUCTION, 301);

    sharedNode.engine.upsertIdentity(
        newFrontend, podLabels(PRODUCTION, "testing", "app", "frontend", "role", "web-service", "version", "v2"));
    PolicyChanges changes = sharedNode.sync();

    assertThat(changes.allows()).containsExactly(ingress(BACKEND, newFrontend, 0, null));
    assertThat(changes.revokes()).isEmpty();
    assertThat(sharedNode.allows(BACKEND, Direction.INGRESS, newFrontend, 8080, Protocol.TCP)).isTrue();
  }

  @Test
  void onTheProductionClusterThePolicySelectsNothing() {
    // The same policy applied in the production cluster: its endpoint selector names the shared
    // cluster, so no local pod is selected and nothing is enforced there.
    PolicyFixtures.Node productionNode = new PolicyFixtures.Node(PolicyFixtures.engine(PRODUCTION));
    productionNode.addPod(
        "10.3.0.10", identity(PRODUCTION, 256), podLabels(PRODUCTION, "testing", "app", "backend", "role", "database-service"));
    productionNode.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(BLOG_POLICY));
    productionNode.sync();

    assertThat(productionNode.snapshot().policy()).isEmpty();
    assertThat(productionNode.snapshot().endpoints().get(ip("10.3.0.10")).ingressEnforced()).isFalse();
  }
}
