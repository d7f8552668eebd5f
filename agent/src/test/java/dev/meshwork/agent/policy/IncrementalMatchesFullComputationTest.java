package dev.meshwork.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.PolicyKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

/**
 * Random sequences of identity, endpoint and policy events: after every drain, what the drains
 * added up to equals what a fresh engine computes from the final state in one go.
 */
class IncrementalMatchesFullComputationTest {
  static final String[] CLUSTERS = {"k8s-shared-cluster", "k8s-test-cluster", "k8s-production-cluster"};
  static final String[] NAMESPACES = {"a", "b"};
  static final String[] APPS = {"web", "db", "cache"};

  /** A local endpoint keeps its labels even after its identity left the table. */
  record Pod(int identity, List<String> labels) {}

  @RepeatedTest(20)
  void drainsAddUpToTheFullComputation(RepetitionInfo repetition) {
    Random random = new Random(repetition.getCurrentRepetition());
    PolicyEngine engine = PolicyFixtures.engine(CLUSTERS[0]);
    Map<Integer, List<String>> identities = new HashMap<>();
    Map<Integer, Pod> endpoints = new HashMap<>();
    Map<String, String> policies = new HashMap<>(); // name -> yaml
    Set<PolicyKey> programmed = new HashSet<>();

    for (int step = 0; step < 200; step++) {
      switch (random.nextInt(6)) {
        case 0, 1 -> {
          int cluster = random.nextInt(3);
          int id = (cluster + 1) << 16 | (256 + random.nextInt(40));
          List<String> labels =
              PolicyFixtures.podLabels(
                  CLUSTERS[cluster], NAMESPACES[random.nextInt(2)], "app", APPS[random.nextInt(3)], "tier", "t" + random.nextInt(2));
          identities.put(id, labels);
          engine.upsertIdentity(id, labels);
        }
        case 2 -> {
          if (!identities.isEmpty()) {
            int id = List.copyOf(identities.keySet()).get(random.nextInt(identities.size()));
            identities.remove(id);
            engine.deleteIdentity(id);
          }
        }
        case 3 -> {
          int ip = 0x0a010000 + random.nextInt(6);
          List<Integer> local = identities.keySet().stream().filter(i -> i >> 16 == 1).sorted().toList();
          if (random.nextBoolean() && !local.isEmpty()) {
            int id = local.get(random.nextInt(local.size()));
            endpoints.put(ip, new Pod(id, identities.get(id)));
            engine.upsertEndpoint(ip, id, identities.get(id));
          } else {
            endpoints.remove(ip);
            engine.deleteEndpoint(ip);
          }
        }
        case 4 -> {
          String name = "p" + random.nextInt(5);
          String yaml = randomPolicy(random, name);
          policies.put(name, yaml);
          engine.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(yaml));
        }
        default -> {
          String name = "p" + random.nextInt(5);
          policies.remove(name);
          engine.deletePolicy(new PolicyRef(PolicyRef.Kind.CILIUM_NETWORK_POLICY, "a", name));
        }
      }
      if (random.nextInt(4) == 0) {
        PolicyChanges changes = engine.drain();
        assertThat(changes.allows()).as("allowed twice").noneMatch(programmed::contains);
        assertThat(changes.revokes()).as("revoked but never allowed").allMatch(programmed::contains);
        programmed.addAll(changes.allows());
        changes.revokes().forEach(programmed::remove);
      }
    }
    PolicyChanges last = engine.drain();
    programmed.addAll(last.allows());
    last.revokes().forEach(programmed::remove);

    PolicyEngine fresh = PolicyFixtures.engine(CLUSTERS[0]);
    identities.forEach(fresh::upsertIdentity);
    endpoints.forEach((ip, pod) -> fresh.upsertEndpoint(ip, pod.identity(), pod.labels()));
    policies.values().forEach(yaml -> fresh.upsertCiliumNetworkPolicy(PolicyFixtures.cnp(yaml)));

    assertThat(programmed).containsExactlyInAnyOrderElementsOf(fresh.allowedKeys());
    assertThat(new HashSet<>(engine.allowedKeys())).isEqualTo(programmed);
    for (int ip : endpoints.keySet()) {
      assertThat(engine.enforcement(ip)).isEqualTo(fresh.enforcement(ip));
    }
  }

  static String randomPolicy(Random random, String name) {
    String app = APPS[random.nextInt(3)];
    String peer =
        switch (random.nextInt(4)) {
          case 0 -> "{matchLabels: {app: " + APPS[random.nextInt(3)] + "}}";
          case 1 -> "{matchExpressions: [{key: tier, operator: NotIn, values: [t0]}, {key: io.cilium.k8s.policy.cluster, operator: Exists}]}";
          case 2 -> "{matchLabels: {io.kubernetes.pod.namespace: b}}";
          default -> "{}";
        };
    String direction = random.nextBoolean() ? "ingress:\n  - fromEndpoints: " : "egress:\n  - toEndpoints: ";
    String ports = random.nextBoolean() ? "" : "\n    toPorts: [{ports: [{port: \"" + (80 + random.nextInt(3)) + "\", protocol: TCP}]}]";
    return """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {namespace: a, name: %s}
        spec:
          endpointSelector: {matchLabels: {app: %s}}
          %s[%s]%s
        """.formatted(name, app, direction, peer, ports);
  }

  @Test
  void indexedSelectorResolutionAgreesWithCheckingEveryIdentity() {
    Random random = new Random(7);
    IdentityIndex index = new IdentityIndex();
    Map<Integer, LabelSet> all = new HashMap<>();
    for (int id = 256; id < 1256; id++) {
      LabelSet labels =
          LabelSet.parse(
              PolicyFixtures.podLabels(
                  CLUSTERS[random.nextInt(3)], NAMESPACES[random.nextInt(2)], "app", APPS[random.nextInt(3)], "tier", "t" + random.nextInt(3)));
      index.put(id, labels);
      all.put(id, labels);
    }
    for (int id = 256; id < 1256; id += 7) {
      index.remove(id);
      all.remove(id);
    }
    Operator[] operators = Operator.values();
    for (int n = 0; n < 300; n++) {
      List<Requirement> requirements = new ArrayList<>();
      int count = random.nextInt(4);
      for (int i = 0; i < count; i++) {
        String key = random.nextBoolean() ? "app" : random.nextBoolean() ? "tier" : "io.kubernetes.pod.namespace";
        Operator op = operators[random.nextInt(operators.length)];
        List<String> values =
            op == Operator.IN || op == Operator.NOT_IN
                ? List.of(APPS[random.nextInt(3)], "t" + random.nextInt(3), NAMESPACES[random.nextInt(2)])
                : List.of();
        requirements.add(new Requirement(key, op, values));
      }
      Selector selector = new Selector(requirements);
      Set<Integer> expected = new HashSet<>();
      all.forEach((id, labels) -> {
        if (selector.matches(labels)) {
          expected.add(id);
        }
      });
      assertThat(index.idsOf(index.select(selector))).as(selector.toString()).isEqualTo(expected);
    }
  }
}
