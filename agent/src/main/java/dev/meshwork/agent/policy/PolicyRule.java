package dev.meshwork.agent.policy;

import dev.meshwork.datapath.PolicyKey.Direction;
import java.util.List;

/**
 * One ingress or egress element of a policy, compiled: local endpoints matching {@code subject}
 * get {@code direction} enforced and may talk to every identity of {@code peers} on {@code
 * ports}. No peers means the rule only turns enforcement on (Cilium's {@code ingress: [{}]}).
 */
public record PolicyRule(
    PolicyRef source, Selector subject, Direction direction, List<Peer> peers, List<PortProtocol> ports) {

  public PolicyRule {
    peers = List.copyOf(peers);
    ports = ports.isEmpty() ? List.of(PortProtocol.ANY) : List.copyOf(ports);
  }
}
