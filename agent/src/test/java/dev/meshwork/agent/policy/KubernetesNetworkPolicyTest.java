package dev.meshwork.agent.policy;

import static dev.meshwork.agent.policy.PolicyFixtures.SHARED;
import static dev.meshwork.agent.policy.PolicyFixtures.TEST;
import static dev.meshwork.agent.policy.PolicyFixtures.egress;
import static dev.meshwork.agent.policy.PolicyFixtures.identity;
import static dev.meshwork.agent.policy.PolicyFixtures.ingress;
import static dev.meshwork.agent.policy.PolicyFixtures.ip;
import static dev.meshwork.agent.policy.PolicyFixtures.podLabels;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Kubernetes NetworkPolicy: namespace selectors, pod selectors scoped to the namespace, ports. */
class KubernetesNetworkPolicyTest {
  static final String DB = "10.1.0.20";
  static final int DB_ID = identity(SHARED, 256);
  static final int WEB_ID = identity(SHARED, 257); // namespace web, labelled team=frontend
  static final int BATCH_ID = identity(SHARED, 258); // namespace batch
  static final int DB_CLIENT_ID = identity(SHARED, 259); // namespace data, app=client
  static final int REMOTE_WEB_ID = identity(TEST, 257); // namespace web in another cluster

  PolicyFixtures.Node node;

  @BeforeEach
  void pods() {
    node = new PolicyFixtures.Node(PolicyFixtures.engine(SHARED));
    node.addPod(DB, DB_ID, podLabels(SHARED, "data", "app", "postgres"));
    node.engine.upsertIdentity(WEB_ID, withNamespaceLabel(podLabels(SHARED, "web", "app", "shop"), "team", "frontend"));
    node.engine.upsertIdentity(BATCH_ID, withNamespaceLabel(podLabels(SHARED, "batch", "app", "shop"), "team", "jobs"));
    node.engine.upsertIdentity(DB_CLIENT_ID, podLabels(SHARED, "data", "app", "client"));
    node.engine.upsertIdentity(REMOTE_WEB_ID, withNamespaceLabel(podLabels(TEST, "web", "app", "shop"), "team", "frontend"));
    node.sync();
  }

  /** Cilium encodes the labels of a pod's namespace into its identity like this. */
  static List<String> withNamespaceLabel(List<String> labels, String key, String value) {
    List<String> out = new ArrayList<>(labels);
    out.add("k8s:io.cilium.k8s.namespace.labels." + key + "=" + value);
    return out;
  }

  @Test
  void namespaceSelectorByNameAndPortsAllowOnlyThoseNamespacesOnThosePorts() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: data, name: postgres-from-web}
            spec:
              podSelector:
                matchLabels: {app: postgres}
              ingress:
              - from:
                - namespaceSelector:
                    matchLabels: {kubernetes.io/metadata.name: web}
                ports:
                - {protocol: TCP, port: 5432}
                - {protocol: UDP, port: 5433}
            """));
    node.sync();

    assertThat(node.snapshot().policy())
        .containsExactlyInAnyOrder(
            ingress(DB, WEB_ID, 5432, Protocol.TCP), ingress(DB, WEB_ID, 5433, Protocol.UDP));
    assertThat(node.allows(DB, Direction.INGRESS, WEB_ID, 5432, Protocol.TCP)).isTrue();
    assertThat(node.allows(DB, Direction.INGRESS, WEB_ID, 22, Protocol.TCP)).isFalse();
    assertThat(node.allows(DB, Direction.INGRESS, BATCH_ID, 5432, Protocol.TCP)).isFalse();
    assertThat(node.allows(DB, Direction.INGRESS, REMOTE_WEB_ID, 5432, Protocol.TCP))
        .as("local cluster only by default")
        .isFalse();
    // Egress is not in the policy's types: unaffected.
    assertThat(node.snapshot().endpoints().get(ip(DB)).egressEnforced()).isFalse();
  }

  @Test
  void namespaceSelectorOnNamespaceLabelsCombinedWithPodSelector() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: data, name: postgres-from-frontend-shops}
            spec:
              podSelector: {}
              policyTypes: [Ingress]
              ingress:
              - from:
                - namespaceSelector:
                    matchExpressions:
                    - {key: team, operator: In, values: [frontend, mobile]}
                  podSelector:
                    matchLabels: {app: shop}
                ports:
                - port: 5432
            """));
    node.sync();

    assertThat(node.snapshot().policy()).containsExactly(ingress(DB, WEB_ID, 5432, Protocol.TCP));
  }

  @Test
  void podSelectorPeerMatchesOnlyThePolicyNamespace() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: data, name: postgres-from-clients}
            spec:
              podSelector:
                matchLabels: {app: postgres}
              ingress:
              - from:
                - podSelector:
                    matchExpressions:
                    - {key: app, operator: Exists}
            """));
    node.sync();

    // Every labelled pod of namespace data (the client, and the database itself), no other namespace.
    assertThat(node.snapshot().policy())
        .containsExactlyInAnyOrder(ingress(DB, DB_CLIENT_ID, 0, null), ingress(DB, DB_ID, 0, null));
  }

  @Test
  void emptyIngressIsolatesAndEgressRuleWithoutPeersAllowsEveryoneOnItsPort() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: data, name: lockdown}
            spec:
              podSelector: {}
              policyTypes: [Ingress, Egress]
              egress:
              - ports:
                - {protocol: UDP, port: 53}
            """));
    node.sync();

    assertThat(node.snapshot().policy()).containsExactly(egress(DB, 0, 53, Protocol.UDP));
    assertThat(node.snapshot().endpoints().get(ip(DB)).ingressEnforced()).isTrue();
    assertThat(node.snapshot().endpoints().get(ip(DB)).egressEnforced()).isTrue();
    assertThat(node.allows(DB, Direction.INGRESS, WEB_ID, 5432, Protocol.TCP)).isFalse();
    assertThat(node.allows(DB, Direction.EGRESS, identity(TEST, 999), 53, Protocol.UDP)).isTrue();
  }

  @Test
  void aPolicyOfAnotherNamespaceDoesNotSelectThePod() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: web, name: deny-all}
            spec:
              podSelector: {}
            """));
    node.sync();

    assertThat(node.snapshot().endpoints().get(ip(DB)).ingressEnforced()).isFalse();
    assertThat(node.engine.statuses().getFirst().selectedEndpoints()).isEmpty();
  }
}
