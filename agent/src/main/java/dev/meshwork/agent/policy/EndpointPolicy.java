package dev.meshwork.agent.policy;

import dev.meshwork.datapath.PolicyKey;
import java.util.List;

/**
 * The policy in force for one local endpoint, for {@code meshwork policy get <endpoint>}.
 *
 * @param rules the rules that select it, in policy order
 * @param allowed the keys the datapath holds for it (when enforcement of their direction is on)
 */
public record EndpointPolicy(
    int endpointIp,
    int identity,
    boolean ingressEnforced,
    boolean egressEnforced,
    List<AppliedRule> rules,
    List<PolicyKey> allowed) {

  public EndpointPolicy {
    rules = List.copyOf(rules);
    allowed = List.copyOf(allowed);
  }

  /**
   * One rule selecting the endpoint.
   *
   * @param peers the peers as written after scoping, e.g. {@code {app=frontend, ...}} or {@code
   *     entity:world}
   * @param peerIdentities the identities those peers resolve to now (0: any identity)
   */
  public record AppliedRule(
      PolicyRef policy,
      PolicyKey.Direction direction,
      List<String> peers,
      List<PortProtocol> ports,
      List<Integer> peerIdentities) {
    public AppliedRule {
      peers = List.copyOf(peers);
      ports = List.copyOf(ports);
      peerIdentities = List.copyOf(peerIdentities);
    }
  }
}
