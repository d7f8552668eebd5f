package dev.meshwork.agent.policy;

import dev.meshwork.datapath.PolicyKey.Direction;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Validates a {@code cilium.io/v2} CiliumNetworkPolicy and compiles it into rules. Every field
 * Meshwork does not implement is an error naming it: a policy is applied whole or not at all.
 *
 * <p>Scoping as Cilium does it: the endpoint selector matches only pods of the policy's
 * namespace; a peer selector too, unless it names a namespace label itself; a peer selector
 * without an {@code io.cilium.k8s.policy.cluster} label matches only the local cluster unless
 * {@link PolicyConfig#defaultLocalCluster()} is off.
 */
public final class CiliumNetworkPolicyParser {
  private static final Set<String> RULE_FIELDS =
      Set.of("description", "endpointSelector", "ingress", "egress", "labels");
  private static final Set<String> RULE_UNSUPPORTED =
      Set.of("nodeSelector", "ingressDeny", "egressDeny", "enableDefaultDeny", "log");
  private static final Set<String> INGRESS_FIELDS = Set.of("fromEndpoints", "fromEntities", "toPorts");
  private static final Set<String> INGRESS_UNSUPPORTED =
      Set.of(
          "fromCIDR", "fromCIDRSet", "fromRequires", "fromGroups", "fromNodes", "icmps",
          "authentication", "fromFQDNs");
  private static final Set<String> EGRESS_FIELDS = Set.of("toEndpoints", "toEntities", "toPorts");
  private static final Set<String> EGRESS_UNSUPPORTED =
      Set.of(
          "toCIDR", "toCIDRSet", "toRequires", "toGroups", "toNodes", "icmps", "authentication",
          "toFQDNs", "toServices");
  private static final Set<String> PORT_RULE_FIELDS = Set.of("ports");
  private static final Set<String> PORT_RULE_UNSUPPORTED =
      Set.of("rules", "serverNames", "listener", "originatingTLS", "terminatingTLS");
  private static final Set<String> PORT_FIELDS = Set.of("port", "protocol");
  private static final Set<String> PORT_UNSUPPORTED = Set.of("endPort");

  private final PolicyConfig config;

  public CiliumNetworkPolicyParser(PolicyConfig config) {
    this.config = config;
  }

  public static PolicyRef ref(GenericKubernetesResource resource) {
    return new PolicyRef(
        PolicyRef.Kind.CILIUM_NETWORK_POLICY,
        resource.getMetadata() == null ? null : resource.getMetadata().getNamespace(),
        resource.getMetadata() == null ? null : resource.getMetadata().getName());
  }

  /** Never throws: anything wrong with the object is in the {@link ParseResult.Invalid}. */
  public ParseResult parse(GenericKubernetesResource resource) {
    PolicyRef ref = ref(resource);
    List<String> errors = new ArrayList<>();
    SpecReader reader = new SpecReader(errors);
    if (ref.namespace().isEmpty()) {
      reader.error(FieldPath.of("metadata.namespace"), "a CiliumNetworkPolicy is namespaced; the namespace is missing");
    }
    if (ref.name().isEmpty()) {
      reader.error(FieldPath.of("metadata.name"), "missing");
    }
    Map<String, Object> extra = resource.getAdditionalProperties();
    Object spec = extra.get("spec");
    Object specs = extra.get("specs");
    List<PolicyRule> rules = new ArrayList<>();
    if (spec == null && specs == null) {
      reader.error(FieldPath.of("spec"), "missing (a CiliumNetworkPolicy needs spec or specs)");
    }
    if (spec != null) {
      rule(ref, spec, FieldPath.of("spec"), reader, rules);
    }
    if (specs != null) {
      FieldPath specsPath = FieldPath.of("specs");
      List<?> list = reader.list(specs, specsPath);
      if (list != null) {
        for (int i = 0; i < list.size(); i++) {
          rule(ref, list.get(i), specsPath.index(i), reader, rules);
        }
      }
    }
    return errors.isEmpty()
        ? new ParseResult.Valid(new CompiledPolicy(ref, rules))
        : new ParseResult.Invalid(ref, errors);
  }

  private void rule(PolicyRef ref, Object yaml, FieldPath path, SpecReader reader, List<PolicyRule> out) {
    Map<String, Object> spec = reader.map(yaml, path);
    if (spec == null) {
      return;
    }
    reader.onlyFields(spec, path, RULE_FIELDS, RULE_UNSUPPORTED);
    Object description = spec.get("description");
    if (description != null) {
      reader.string(description, path.field("description"));
    }
    Object endpointSelector = spec.get("endpointSelector");
    Selector subject = null;
    if (endpointSelector == null) {
      reader.error(path.field("endpointSelector"), "missing (every rule must select the endpoints it applies to)");
    } else {
      Selector raw = SelectorParser.parse(endpointSelector, path.field("endpointSelector"), reader);
      if (raw != null) {
        subject = raw.with(Requirement.equal(LabelSet.NAMESPACE, ref.namespace()));
      }
    }
    if (spec.get("ingress") != null) {
      sections(ref, subject, spec.get("ingress"), path.field("ingress"), Direction.INGRESS, reader, out);
    }
    if (spec.get("egress") != null) {
      sections(ref, subject, spec.get("egress"), path.field("egress"), Direction.EGRESS, reader, out);
    }
  }

  private void sections(
      PolicyRef ref,
      Selector subject,
      Object yaml,
      FieldPath path,
      Direction direction,
      SpecReader reader,
      List<PolicyRule> out) {
    List<?> list = reader.list(yaml, path);
    if (list == null) {
      return;
    }
    boolean ingress = direction == Direction.INGRESS;
    String endpointsField = ingress ? "fromEndpoints" : "toEndpoints";
    String entitiesField = ingress ? "fromEntities" : "toEntities";
    for (int i = 0; i < list.size(); i++) {
      FieldPath p = path.index(i);
      Map<String, Object> section = reader.map(list.get(i), p);
      if (section == null) {
        continue;
      }
      reader.onlyFields(
          section,
          p,
          ingress ? INGRESS_FIELDS : EGRESS_FIELDS,
          ingress ? INGRESS_UNSUPPORTED : EGRESS_UNSUPPORTED);
      List<Peer> peers = new ArrayList<>();
      if (section.get(endpointsField) != null) {
        FieldPath selectorsPath = p.field(endpointsField);
        List<?> selectors = reader.list(section.get(endpointsField), selectorsPath);
        if (selectors != null) {
          for (int j = 0; j < selectors.size(); j++) {
            Selector raw = SelectorParser.parse(selectors.get(j), selectorsPath.index(j), reader);
            if (raw != null) {
              peers.add(new Peer.Selected(PeerScope.scope(raw, ref.namespace(), config)));
            }
          }
        }
      }
      if (section.get(entitiesField) != null) {
        FieldPath entitiesPath = p.field(entitiesField);
        List<?> entities = reader.list(section.get(entitiesField), entitiesPath);
        if (entities != null) {
          for (int j = 0; j < entities.size(); j++) {
            FieldPath ep = entitiesPath.index(j);
            String name = reader.string(entities.get(j), ep);
            if (name == null) {
              continue;
            }
            Entity entity = Entity.fromYaml(name);
            if (entity == null) {
              reader.error(ep, "unknown entity \"" + name + "\" (supported: " + Entity.supportedNames() + ")");
            } else {
              peers.addAll(entity.peers(config.localCluster()));
            }
          }
        }
      }
      List<PortProtocol> ports = new ArrayList<>();
      if (section.get("toPorts") != null) {
        toPorts(section.get("toPorts"), p.field("toPorts"), reader, ports);
      }
      boolean namesPeers = section.containsKey(endpointsField) || section.containsKey(entitiesField);
      if (!namesPeers && !ports.isEmpty()) {
        // A port-only rule allows those ports from/to every peer.
        peers.add(new Peer.Any("any peer on the listed ports"));
      }
      if (subject != null) {
        out.add(new PolicyRule(ref, subject, direction, peers, ports));
      }
    }
  }

  private static void toPorts(Object yaml, FieldPath path, SpecReader reader, List<PortProtocol> out) {
    List<?> list = reader.list(yaml, path);
    if (list == null) {
      return;
    }
    for (int i = 0; i < list.size(); i++) {
      FieldPath p = path.index(i);
      Map<String, Object> portRule = reader.map(list.get(i), p);
      if (portRule == null) {
        continue;
      }
      reader.onlyFields(portRule, p, PORT_RULE_FIELDS, PORT_RULE_UNSUPPORTED);
      if (portRule.get("ports") == null) {
        out.add(PortProtocol.ANY);
        continue;
      }
      FieldPath portsPath = p.field("ports");
      List<?> ports = reader.list(portRule.get("ports"), portsPath);
      if (ports == null) {
        continue;
      }
      for (int j = 0; j < ports.size(); j++) {
        FieldPath pp = portsPath.index(j);
        Map<String, Object> port = reader.map(ports.get(j), pp);
        if (port == null) {
          continue;
        }
        reader.onlyFields(port, pp, PORT_FIELDS, PORT_UNSUPPORTED);
        Integer number = port.get("port") == null ? Integer.valueOf(0) : PortParser.port(port.get("port"), pp.field("port"), reader);
        PortParser.ParsedProtocol protocol =
            port.get("protocol") == null
                ? new PortParser.ParsedProtocol(null)
                : PortParser.protocol(port.get("protocol"), pp.field("protocol"), reader, true);
        if (number != null && protocol != null) {
          out.add(new PortProtocol(number, protocol.protocol()));
        }
      }
    }
  }
}
