package dev.meshwork.agent.policy;

import static dev.meshwork.agent.policy.PolicyFixtures.PRODUCTION;
import static dev.meshwork.agent.policy.PolicyFixtures.SHARED;
import static dev.meshwork.agent.policy.PolicyFixtures.identity;
import static dev.meshwork.agent.policy.PolicyFixtures.ingress;
import static dev.meshwork.agent.policy.PolicyFixtures.podLabels;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.Protocol;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A policy that cannot be applied as written is reported (status, log, metric) with the field
 * at fault, is not applied, and leaves every other policy as it was.
 */
class InvalidPolicyTest {
  static final String BACKEND = "10.1.0.10";
  static final int BACKEND_ID = identity(SHARED, 256);
  static final int FRONTEND_ID = identity(PRODUCTION, 300);

  SimpleMeterRegistry registry;
  PolicyFixtures.Node node;
  DatapathSnapshot withGoodPolicy;

  @BeforeEach
  void nodeWithOneGoodPolicy() {
    registry = new SimpleMeterRegistry();
    node = new PolicyFixtures.Node(new PolicyEngine(new PolicyConfig(SHARED, true), registry));
    node.addPod(BACKEND, BACKEND_ID, podLabels(SHARED, "testing", "app", "backend"));
    node.engine.upsertIdentity(FRONTEND_ID, podLabels(PRODUCTION, "testing", "app", "frontend"));
    node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(cnp("good", """
          endpointSelector: {matchLabels: {app: backend}}
          ingress:
          - fromEndpoints:
            - matchLabels: {app: frontend, io.cilium.k8s.policy.cluster: k8s-production-cluster}
            toPorts:
            - ports: [{port: "8080", protocol: TCP}]
        """)));
    node.sync();
    withGoodPolicy = node.snapshot();
    assertThat(withGoodPolicy.policy()).containsExactly(ingress(BACKEND, FRONTEND_ID, 8080, Protocol.TCP));
  }

  static String cnp(String name, String specBody) {
    return """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {namespace: testing, name: %s}
        spec:
        %s""".formatted(name, specBody);
  }

  static Stream<Arguments> brokenCiliumPolicies() {
    return Stream.of(
        Arguments.of("bad selector operator", """
              endpointSelector:
                matchExpressions: [{key: app, operator: Equals, values: [backend]}]
              ingress: [{fromEntities: [world]}]
            """, "spec.endpointSelector.matchExpressions[0].operator: unknown operator \"Equals\""),
        Arguments.of("In without values", """
              endpointSelector:
                matchExpressions: [{key: app, operator: In}]
              ingress: [{fromEntities: [world]}]
            """, "spec.endpointSelector.matchExpressions[0].values: operator In needs at least one value"),
        Arguments.of("Exists with values", """
              endpointSelector:
                matchExpressions: [{key: app, operator: Exists, values: [x]}]
            """, "spec.endpointSelector.matchExpressions[0].values: operator Exists takes no values"),
        Arguments.of("toFQDNs", """
              endpointSelector: {matchLabels: {app: backend}}
              egress:
              - toFQDNs: [{matchName: example.com}]
            """, "spec.egress[0].toFQDNs: not supported by Meshwork"),
        Arguments.of("toCIDR", """
              endpointSelector: {matchLabels: {app: backend}}
              egress: [{toCIDR: [198.18.0.0/16]}]
            """, "spec.egress[0].toCIDR: not supported by Meshwork"),
        Arguments.of("L7 rules", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress:
              - toPorts:
                - ports: [{port: "80", protocol: TCP}]
                  rules: {http: [{method: GET}]}
            """, "spec.ingress[0].toPorts[0].rules: not supported by Meshwork"),
        Arguments.of("ingressDeny", """
              endpointSelector: {matchLabels: {app: backend}}
              ingressDeny: [{fromEntities: [world]}]
            """, "spec.ingressDeny: not supported by Meshwork"),
        Arguments.of("missing endpointSelector", """
              ingress: [{fromEntities: [world]}]
            """, "spec.endpointSelector: missing"),
        Arguments.of("ingress is not a list", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: {fromEntities: [world]}
            """, "spec.ingress: expected a list, got an object"),
        Arguments.of("label value is a number", """
              endpointSelector: {matchLabels: {version: 2}}
            """, "spec.endpointSelector.matchLabels.version: expected a string, got the number 2"),
        Arguments.of("named port", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{toPorts: [{ports: [{port: http}]}]}]
            """, "spec.ingress[0].toPorts[0].ports[0].port: named port \"http\" is not supported"),
        Arguments.of("port out of range", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{toPorts: [{ports: [{port: "70000"}]}]}]
            """, "spec.ingress[0].toPorts[0].ports[0].port: port 70000 is outside 0..65535"),
        Arguments.of("unknown protocol", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{toPorts: [{ports: [{port: "53", protocol: ICMP}]}]}]
            """, "spec.ingress[0].toPorts[0].ports[0].protocol: unknown protocol \"ICMP\""),
        Arguments.of("unknown entity", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{fromEntities: [everyone]}]
            """, "spec.ingress[0].fromEntities[0]: unknown entity \"everyone\""),
        Arguments.of("misspelled field", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{fromEndpoint: [{}]}]
            """, "spec.ingress[0].fromEndpoint: unknown field"),
        Arguments.of("entity is not a string", """
              endpointSelector: {matchLabels: {app: backend}}
              ingress: [{fromEntities: [{name: world}]}]
            """, "spec.ingress[0].fromEntities[0]: expected a string, got an object"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("brokenCiliumPolicies")
  void brokenCiliumPolicyIsReportedAndChangesNothing(String what, String specBody, String expectedError) {
    String yaml = cnp("broken", specBody.stripIndent().indent(2));

    assertThatCode(() -> node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(yaml))).doesNotThrowAnyException();
    PolicyChanges changes = node.sync();

    assertThat(changes.isEmpty()).isTrue();
    assertThat(node.snapshot()).isEqualTo(withGoodPolicy);
    PolicyStatus status = status("broken");
    assertThat(status.valid()).isFalse();
    assertThat(status.kind()).isEqualTo("CiliumNetworkPolicy");
    assertThat(status.errors()).anySatisfy(e -> assertThat(e).startsWith(expectedError));
    assertThat(status.selectedEndpoints()).isEmpty();
    assertThat(status("good").valid()).isTrue();
    assertThat(registry.get("meshwork.policy.rejected").tag("kind", "CiliumNetworkPolicy").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("meshwork.policy.invalid").gauge().value()).isEqualTo(1.0);
  }

  @Test
  void brokenKubernetesNetworkPolicyIsReportedWithEveryError() {
    node.engine.upsertNetworkPolicy(
        PolicyFixtures.networkPolicy(
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {namespace: testing, name: broken}
            spec:
              podSelector:
                matchExpressions: [{key: app, operator: Like, values: [x]}]
              policyTypes: [Ingress, Sideways]
              ingress:
              - from:
                - ipBlock: {cidr: 198.18.0.0/16}
                ports:
                - {port: 80, endPort: 90}
                - {port: metrics}
                - {protocol: ICMP, port: 1}
            """));
    PolicyChanges changes = node.sync();

    assertThat(changes.isEmpty()).isTrue();
    assertThat(node.snapshot()).isEqualTo(withGoodPolicy);
    PolicyStatus status = status("broken");
    assertThat(status.kind()).isEqualTo("NetworkPolicy");
    assertThat(status.errors())
        .anySatisfy(e -> assertThat(e).startsWith("spec.podSelector.matchExpressions[0].operator: unknown operator \"Like\""))
        .anySatisfy(e -> assertThat(e).startsWith("spec.policyTypes[1]: unknown policy type \"Sideways\""))
        .anySatisfy(e -> assertThat(e).startsWith("spec.ingress[0].from[0].ipBlock: not supported by Meshwork"))
        .anySatisfy(e -> assertThat(e).startsWith("spec.ingress[0].ports[0].endPort: not supported by Meshwork"))
        .anySatisfy(e -> assertThat(e).startsWith("spec.ingress[0].ports[1].port: named port \"metrics\""))
        .anySatisfy(e -> assertThat(e).startsWith("spec.ingress[0].ports[2].protocol: unknown protocol \"ICMP\""));
  }

  @Test
  void policyWithoutSpecOrNamespaceIsReported() {
    node.engine.upsertCiliumNetworkPolicy(
        PolicyFixtures.cnp("""
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: nowhere}
            """));
    assertThat(node.engine.statuses())
        .filteredOn(s -> s.name().equals("nowhere"))
        .singleElement()
        .satisfies(
            s ->
                assertThat(s.errors())
                    .containsExactly(
                        "metadata.namespace: a CiliumNetworkPolicy is namespaced; the namespace is missing",
                        "spec: missing (a CiliumNetworkPolicy needs spec or specs)"));
  }

  @Test
  void invalidUpdateKeepsThePreviousValidVersionInForce() {
    node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(cnp("good", """
          endpointSelector: {matchLabels: {app: backend}}
          ingress:
          - toFQDNs: [{matchName: example.com}]
        """)));
    node.sync();

    assertThat(node.snapshot()).isEqualTo(withGoodPolicy);
    PolicyStatus status = status("good");
    assertThat(status.valid()).isFalse();
    assertThat(status.previousVersionInForce()).isTrue();
    assertThat(status.selectedEndpoints()).containsExactly(PolicyFixtures.ip(BACKEND));
  }

  @Test
  void fixingABrokenPolicyAppliesItAndClearsTheReport() {
    node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(cnp("later", """
          endpointSelector: {matchLabels: {app: backend}}
          egress: [{toEntities: [wrld]}]
        """)));
    node.engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(cnp("later", """
          endpointSelector: {matchLabels: {app: backend}}
          egress: [{toEntities: [world]}]
        """)));
    PolicyChanges changes = node.sync();

    assertThat(changes.allows()).containsExactly(PolicyFixtures.egress(BACKEND, 2, 0, null));
    assertThat(status("later").valid()).isTrue();
    assertThat(registry.get("meshwork.policy.invalid").gauge().value()).isZero();
  }

  PolicyStatus status(String name) {
    return node.engine.statuses().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }
}
