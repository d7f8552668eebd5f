package dev.meshwork.agent.endpoint;

import java.util.Objects;

/**
 * The veth pair of one endpoint as it must be: the host side in the node's namespace with a /32
 * route to the pod, the pod side in {@code netns} with the pod's address, a route to the gateway
 * through the interface, the default route via the gateway, and the gateway's neighbour entry
 * pinned to the host side's MAC (so the pod needs no ARP answer from the node).
 *
 * @param ip the pod's address, {@link dev.meshwork.datapath.Ipv4} as int
 * @param gateway the pod CIDR's gateway address
 */
public record PodLink(
    String hostInterface,
    String hostMac,
    String netns,
    String podInterface,
    String podMac,
    int ip,
    int gateway,
    int mtu) {
  public PodLink {
    Objects.requireNonNull(hostInterface, "hostInterface");
    Objects.requireNonNull(hostMac, "hostMac");
    Objects.requireNonNull(netns, "netns");
    Objects.requireNonNull(podInterface, "podInterface");
    Objects.requireNonNull(podMac, "podMac");
  }
}
