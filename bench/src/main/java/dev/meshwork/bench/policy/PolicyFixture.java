package dev.meshwork.bench.policy;

import dev.meshwork.agent.policy.PolicyConfig;
import dev.meshwork.agent.policy.PolicyEngine;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A mesh of three clusters for policy benchmarks: {@code identities} pod identities spread over
 * the clusters, 20 namespaces and 100 apps; {@code endpoints} local pods on the node; {@code
 * rules} CiliumNetworkPolicies, each selecting one of the node's pods (so every rule is in force
 * here: the worst case for one node) with one ingress rule on two ports. Peers: a third name
 * another namespace and the clusters k8s-shared-cluster and k8s-production-cluster explicitly, a
 * sixth add a NotIn expression, a tenth are the empty selector (the whole namespace), the rest
 * one app of the policy's namespace. Seeded, so every run builds the same mesh.
 */
public final class PolicyFixture {
  public static final String[] CLUSTERS = {"k8s-shared-cluster", "k8s-test-cluster", "k8s-production-cluster"};
  static final int NAMESPACES = 20;
  static final int APPS = 100;

  public final Map<Integer, List<String>> identities = new LinkedHashMap<>();
  public final Map<Integer, Integer> endpoints = new LinkedHashMap<>(); // ip -> identity
  public final List<GenericKubernetesResource> policies = new ArrayList<>();
  /** Labels of a production-cluster pod that the peer of rule 0 selects. */
  public List<String> remotePeerOfRuleZero;

  public PolicyFixture(int identityCount, int ruleCount, int endpointCount) {
    Random random = new Random(42);
    List<Integer> local = new ArrayList<>();
    for (int i = 0; i < identityCount; i++) {
      int cluster = i % 3;
      int id = (cluster + 1) << 16 | (256 + i / 3);
      identities.put(id, labels(cluster, i % NAMESPACES, random.nextInt(APPS), random.nextInt(3)));
      if (cluster == 0) {
        local.add(id);
      }
    }
    for (int e = 0; e < endpointCount; e++) {
      endpoints.put(0x0a010000 + e, local.get(e % local.size()));
    }
    List<Integer> endpointIds = List.copyOf(endpoints.values());
    for (int r = 0; r < ruleCount; r++) {
      policies.add(policy(r, identities.get(endpointIds.get(r % endpointIds.size())), random));
    }
  }

  public static List<String> labels(int cluster, int namespace, int app, int tier) {
    return List.of(
        "k8s:app=app-" + app,
        "k8s:tier=t" + tier,
        "k8s:io.kubernetes.pod.namespace=ns-" + namespace,
        "k8s:io.cilium.k8s.policy.cluster=" + CLUSTERS[cluster],
        "k8s:io.cilium.k8s.policy.serviceaccount=default");
  }

  private static String value(List<String> labels, String prefix) {
    return labels.stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow().substring(prefix.length());
  }

  public PolicyConfig config() {
    return new PolicyConfig(CLUSTERS[0], true);
  }

  public PolicyEngine newEngine() {
    return new PolicyEngine(config(), new SimpleMeterRegistry());
  }

  /** Loads everything into {@code engine} (identities, endpoints, policies). */
  public void load(PolicyEngine engine) {
    identities.forEach(engine::upsertIdentity);
    endpoints.forEach((ip, id) -> engine.upsertEndpoint(ip, id, identities.get(id)));
    policies.forEach(engine::upsertCiliumNetworkPolicy);
  }

  private GenericKubernetesResource policy(int index, List<String> subjectLabels, Random random) {
    String subjectApp = value(subjectLabels, "k8s:app=");
    String namespace = value(subjectLabels, "k8s:io.kubernetes.pod.namespace=");
    Map<String, Object> peerLabels = new LinkedHashMap<>();
    int peerApp = random.nextInt(APPS);
    peerLabels.put("app", "app-" + peerApp);
    Map<String, Object> peer = new LinkedHashMap<>();
    peer.put("matchLabels", peerLabels);
    if (index % 3 == 0) {
      int peerNamespace = random.nextInt(NAMESPACES);
      peerLabels.put("io.kubernetes.pod.namespace", "ns-" + peerNamespace);
      if (index == 0) {
        remotePeerOfRuleZero = labels(2, peerNamespace, peerApp, 1);
      }
      peer.put(
          "matchExpressions",
          List.of(
              Map.of(
                  "key", "io.cilium.k8s.policy.cluster",
                  "operator", "In",
                  "values", List.of(CLUSTERS[0], CLUSTERS[2]))));
    } else if (index % 6 == 1) {
      peer.put("matchExpressions", List.of(Map.of("key", "tier", "operator", "NotIn", "values", List.of("t0"))));
    } else if (index % 10 == 5) {
      peer.clear();
    }
    Map<String, Object> ingress = new LinkedHashMap<>();
    ingress.put("fromEndpoints", List.of(peer));
    ingress.put(
        "toPorts",
        List.of(
            Map.of(
                "ports",
                List.of(
                    Map.of("port", Integer.toString(8000 + random.nextInt(100)), "protocol", "TCP"),
                    Map.of("port", "9090", "protocol", "TCP")))));
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("endpointSelector", Map.of("matchLabels", Map.of("app", subjectApp)));
    spec.put("ingress", List.of(ingress));
    GenericKubernetesResource resource = new GenericKubernetesResource();
    resource.setApiVersion("cilium.io/v2");
    resource.setKind("CiliumNetworkPolicy");
    resource.setMetadata(new ObjectMetaBuilder().withNamespace(namespace).withName("rule-" + index).build());
    resource.setAdditionalProperty("spec", spec);
    return resource;
  }
}
