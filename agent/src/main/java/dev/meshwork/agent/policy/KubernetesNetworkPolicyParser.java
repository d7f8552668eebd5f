package dev.meshwork.agent.policy;

import dev.meshwork.datapath.PolicyKey.Direction;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicySpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Validates a Kubernetes {@code networking.k8s.io/v1} NetworkPolicy and compiles it into rules.
 *
 * <p>Semantics as Kubernetes defines them: the pod selector and a peer's pod selector match the
 * policy's namespace; a peer with a namespace selector matches pods of the namespaces it selects
 * (the namespace name through {@code kubernetes.io/metadata.name}, other namespace labels through
 * the identity labels {@code io.cilium.k8s.namespace.labels.<key>}, as Cilium encodes them); a
 * rule without peers allows every peer; a rule without ports every port. Like Cilium 1.19, peers
 * match the local cluster only unless {@link PolicyConfig#defaultLocalCluster()} is off.
 * {@code ipBlock}, {@code endPort} and named ports are reported as unsupported.
 */
public final class KubernetesNetworkPolicyParser {
  private static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

  private final PolicyConfig config;

  public KubernetesNetworkPolicyParser(PolicyConfig config) {
    this.config = config;
  }

  public static PolicyRef ref(NetworkPolicy policy) {
    return new PolicyRef(
        PolicyRef.Kind.NETWORK_POLICY,
        policy.getMetadata() == null ? null : policy.getMetadata().getNamespace(),
        policy.getMetadata() == null ? null : policy.getMetadata().getName());
  }

  /** Never throws: anything wrong with the object is in the {@link ParseResult.Invalid}. */
  public ParseResult parse(NetworkPolicy policy) {
    PolicyRef ref = ref(policy);
    List<String> errors = new ArrayList<>();
    SpecReader reader = new SpecReader(errors);
    if (ref.namespace().isEmpty()) {
      reader.error(FieldPath.of("metadata.namespace"), "a NetworkPolicy is namespaced; the namespace is missing");
    }
    NetworkPolicySpec spec = policy.getSpec();
    if (spec == null) {
      reader.error(FieldPath.of("spec"), "missing");
      return new ParseResult.Invalid(ref, errors);
    }
    FieldPath specPath = FieldPath.of("spec");
    unknownFields(spec.getAdditionalProperties(), specPath, reader);
    Selector subject = null;
    if (spec.getPodSelector() == null) {
      reader.error(specPath.field("podSelector"), "missing (use {} to select every pod of the namespace)");
    } else {
      Selector raw = SelectorParser.parse(asYaml(spec.getPodSelector()), specPath.field("podSelector"), reader);
      if (raw != null) {
        subject = raw.with(Requirement.equal(LabelSet.NAMESPACE, ref.namespace()));
      }
    }
    boolean ingressType = true;
    boolean egressType = spec.getEgress() != null && !spec.getEgress().isEmpty();
    if (spec.getPolicyTypes() != null && !spec.getPolicyTypes().isEmpty()) {
      ingressType = false;
      egressType = false;
      for (int i = 0; i < spec.getPolicyTypes().size(); i++) {
        String type = spec.getPolicyTypes().get(i);
        switch (type == null ? "" : type) {
          case "Ingress" -> ingressType = true;
          case "Egress" -> egressType = true;
          default ->
              reader.error(specPath.field("policyTypes").index(i), "unknown policy type \"" + type + "\" (expected Ingress or Egress)");
        }
      }
    }
    List<PolicyRule> rules = new ArrayList<>();
    if (ingressType) {
      List<RawRule> ingress = new ArrayList<>();
      if (spec.getIngress() != null) {
        for (int i = 0; i < spec.getIngress().size(); i++) {
          var r = spec.getIngress().get(i);
          FieldPath path = specPath.field("ingress").index(i);
          unknownFields(r.getAdditionalProperties(), path, reader);
          ingress.add(new RawRule(path, "from", r.getFrom(), r.getPorts()));
        }
      }
      compile(ref, subject, Direction.INGRESS, ingress, reader, rules);
    }
    if (egressType) {
      List<RawRule> egress = new ArrayList<>();
      if (spec.getEgress() != null) {
        for (int i = 0; i < spec.getEgress().size(); i++) {
          var r = spec.getEgress().get(i);
          FieldPath path = specPath.field("egress").index(i);
          unknownFields(r.getAdditionalProperties(), path, reader);
          egress.add(new RawRule(path, "to", r.getTo(), r.getPorts()));
        }
      }
      compile(ref, subject, Direction.EGRESS, egress, reader, rules);
    }
    return errors.isEmpty()
        ? new ParseResult.Valid(new CompiledPolicy(ref, rules))
        : new ParseResult.Invalid(ref, errors);
  }

  private record RawRule(FieldPath path, String peersField, List<NetworkPolicyPeer> peers, List<NetworkPolicyPort> ports) {}

  private void compile(
      PolicyRef ref, Selector subject, Direction direction, List<RawRule> raw, SpecReader reader, List<PolicyRule> out) {
    if (raw.isEmpty() && subject != null) {
      // The direction is in policyTypes with no rule: the selected pods are isolated.
      out.add(new PolicyRule(ref, subject, direction, List.of(), List.of()));
      return;
    }
    for (RawRule rule : raw) {
      List<Peer> peers = new ArrayList<>();
      if (rule.peers() == null || rule.peers().isEmpty()) {
        peers.add(new Peer.Any("any peer"));
      } else {
        for (int j = 0; j < rule.peers().size(); j++) {
          Peer peer = peer(rule.peers().get(j), rule.path().field(rule.peersField()).index(j), ref, reader);
          if (peer != null) {
            peers.add(peer);
          }
        }
      }
      List<PortProtocol> ports = new ArrayList<>();
      if (rule.ports() != null) {
        for (int j = 0; j < rule.ports().size(); j++) {
          PortProtocol port = port(rule.ports().get(j), rule.path().field("ports").index(j), reader);
          if (port != null) {
            ports.add(port);
          }
        }
      }
      if (subject != null) {
        out.add(new PolicyRule(ref, subject, direction, peers, ports));
      }
    }
  }

  private Peer peer(NetworkPolicyPeer peer, FieldPath path, PolicyRef ref, SpecReader reader) {
    if (peer == null) {
      reader.error(path, "expected an object, got nothing");
      return null;
    }
    unknownFields(peer.getAdditionalProperties(), path, reader);
    if (peer.getIpBlock() != null) {
      reader.error(path.field("ipBlock"), "not supported by Meshwork");
      return null;
    }
    if (peer.getPodSelector() == null && peer.getNamespaceSelector() == null) {
      reader.error(path, "a peer needs a podSelector or a namespaceSelector");
      return null;
    }
    Selector pods = new Selector(List.of());
    if (peer.getPodSelector() != null) {
      pods = SelectorParser.parse(asYaml(peer.getPodSelector()), path.field("podSelector"), reader);
      if (pods == null) {
        return null;
      }
    }
    if (peer.getNamespaceSelector() == null) {
      return new Peer.Selected(PeerScope.scope(pods, ref.namespace(), config));
    }
    Selector namespaces =
        SelectorParser.parse(asYaml(peer.getNamespaceSelector()), path.field("namespaceSelector"), reader);
    if (namespaces == null) {
      return null;
    }
    List<Requirement> all = new ArrayList<>(pods.requirements());
    all.add(new Requirement(LabelSet.NAMESPACE, Operator.EXISTS, List.of()));
    for (Requirement r : namespaces.requirements()) {
      String key =
          r.key().equals(NAMESPACE_NAME_LABEL) ? LabelSet.NAMESPACE : LabelSet.NAMESPACE_LABEL_PREFIX + r.key();
      all.add(new Requirement(key, r.operator(), r.values()));
    }
    return new Peer.Selected(PeerScope.clusterScoped(new Selector(all), config));
  }

  private static PortProtocol port(NetworkPolicyPort port, FieldPath path, SpecReader reader) {
    if (port == null) {
      reader.error(path, "expected an object, got nothing");
      return null;
    }
    unknownFields(port.getAdditionalProperties(), path, reader);
    if (port.getEndPort() != null) {
      reader.error(path.field("endPort"), "not supported by Meshwork (list the ports one by one)");
      return null;
    }
    PortParser.ParsedProtocol protocol =
        port.getProtocol() == null
            ? new PortParser.ParsedProtocol(dev.meshwork.datapath.Protocol.TCP)
            : PortParser.protocol(port.getProtocol(), path.field("protocol"), reader, false);
    Integer number = 0;
    IntOrString value = port.getPort();
    if (value != null) {
      number = PortParser.port(value.getIntVal() != null ? value.getIntVal() : value.getStrVal(), path.field("port"), reader);
    }
    return protocol == null || number == null ? null : new PortProtocol(number, protocol.protocol());
  }

  private static void unknownFields(Map<String, Object> extra, FieldPath path, SpecReader reader) {
    if (extra != null) {
      extra.keySet().forEach(key -> reader.error(path.field(key), "unknown field"));
    }
  }

  /** The typed selector in the YAML shape {@link SelectorParser} reads. */
  private static Map<String, Object> asYaml(LabelSelector selector) {
    Map<String, Object> map = new LinkedHashMap<>();
    if (selector.getMatchLabels() != null) {
      map.put("matchLabels", new LinkedHashMap<String, Object>(selector.getMatchLabels()));
    }
    if (selector.getMatchExpressions() != null) {
      List<Object> expressions = new ArrayList<>();
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("key", r.getKey());
        e.put("operator", r.getOperator());
        if (r.getValues() != null && !r.getValues().isEmpty()) {
          e.put("values", new ArrayList<Object>(r.getValues()));
        }
        expressions.add(e);
      }
      map.put("matchExpressions", expressions);
    }
    if (selector.getAdditionalProperties() != null) {
      map.putAll(selector.getAdditionalProperties());
    }
    return map;
  }
}
