package dev.meshwork.agent.node;

import dev.meshwork.datapath.IpPrefix;
import java.util.List;

/**
 * A node of some cluster: its InternalIP (the tunnel endpoint, 0 when it has none) and its pod
 * CIDRs.
 */
public record NodeRecord(String cluster, String name, int internalIp, List<IpPrefix> podCidrs) {
  public NodeRecord {
    podCidrs = List.copyOf(podCidrs);
  }
}
