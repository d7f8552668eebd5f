package dev.meshwork.agent.policy;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Clusters, identities, pods and a datapath for policy tests, in the blog's terms. */
final class PolicyFixtures {
  static final String SHARED = "k8s-shared-cluster";
  static final String TEST = "k8s-test-cluster";
  static final String PRODUCTION = "k8s-production-cluster";
  static final Map<String, Integer> CLUSTER_IDS = Map.of(SHARED, 1, TEST, 2, PRODUCTION, 3);

  private static final KubernetesSerialization YAML = new KubernetesSerialization();

  private PolicyFixtures() {}

  static int identity(String cluster, int local) {
    return CLUSTER_IDS.get(cluster) << 16 | local;
  }

  /** A pod's identity labels as the operator writes them. */
  static List<String> podLabels(String cluster, String namespace, String... keyValues) {
    List<String> labels = new ArrayList<>();
    for (int i = 0; i < keyValues.length; i += 2) {
      labels.add("k8s:" + keyValues[i] + "=" + keyValues[i + 1]);
    }
    labels.add("k8s:io.kubernetes.pod.namespace=" + namespace);
    labels.add("k8s:io.cilium.k8s.policy.cluster=" + cluster);
    labels.add("k8s:io.cilium.k8s.policy.serviceaccount=default");
    return labels;
  }

  static GenericKubernetesResource cnp(String yaml) {
    return YAML.unmarshal(yaml, GenericKubernetesResource.class);
  }

  static NetworkPolicy networkPolicy(String yaml) {
    return YAML.unmarshal(yaml, NetworkPolicy.class);
  }

  static PolicyEngine engine(String localCluster) {
    return new PolicyEngine(new PolicyConfig(localCluster, true), new SimpleMeterRegistry());
  }

  static int ip(String dotted) {
    return Ipv4.parse(dotted);
  }

  static PolicyKey ingress(String endpointIp, int remoteIdentity, int port, Protocol protocol) {
    return new PolicyKey(ip(endpointIp), Direction.INGRESS, remoteIdentity, port, protocol);
  }

  static PolicyKey egress(String endpointIp, int remoteIdentity, int port, Protocol protocol) {
    return new PolicyKey(ip(endpointIp), Direction.EGRESS, remoteIdentity, port, protocol);
  }

  /**
   * Does what the agent's reconciler does with the engine's output: endpoints re-upserted with
   * their enforcement flags, policy keys allowed and revoked, all in one batch.
   */
  static final class Node {
    final FakeDatapath datapath = new FakeDatapath();
    final PolicyEngine engine;
    private final Map<Integer, Endpoint> endpoints = new HashMap<>();

    Node(PolicyEngine engine) {
      this.engine = engine;
    }

    void addPod(String ip, int identity, List<String> labels) {
      int address = ip(ip);
      endpoints.put(address, new Endpoint(address, address, "lxc" + Integer.toHexString(address), identity, false, false));
      engine.upsertIdentity(identity, labels);
      engine.upsertEndpoint(address, identity, labels);
    }

    /** Drains the engine into the datapath; returns what the drain gave. */
    PolicyChanges sync() {
      PolicyChanges changes = engine.drain();
      ChangeSet.Builder batch = ChangeSet.builder();
      for (PolicyChanges.EndpointEnforcement e : changes.enforcement()) {
        Endpoint old = endpoints.get(e.endpointIp());
        Endpoint now = new Endpoint(old.id(), old.ip(), old.hostInterface(), old.identity(), e.ingress(), e.egress());
        endpoints.put(e.endpointIp(), now);
      }
      endpoints.values().forEach(batch::upsert);
      changes.addTo(batch);
      datapath.apply(batch.build());
      return changes;
    }

    DatapathSnapshot snapshot() {
      return datapath.snapshot();
    }

    /**
     * The verdict the datapath's lookup gives for a packet: allowed when enforcement of the
     * direction is off, or a key matches exactly or with a wildcard identity, port or protocol.
     */
    boolean allows(String endpointIp, Direction direction, int remoteIdentity, int port, Protocol protocol) {
      DatapathSnapshot s = datapath.snapshot();
      Endpoint e = s.endpoints().get(ip(endpointIp));
      boolean enforced = direction == Direction.INGRESS ? e.ingressEnforced() : e.egressEnforced();
      if (!enforced) {
        return true;
      }
      for (int id : new int[] {remoteIdentity, 0}) {
        for (int p : new int[] {port, 0}) {
          for (Protocol proto : new Protocol[] {protocol, null}) {
            if (s.policy().contains(new PolicyKey(ip(endpointIp), direction, id, p, proto))) {
              return true;
            }
          }
        }
      }
      return false;
    }
  }
}
