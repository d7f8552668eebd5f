package dev.meshwork.datapath;

/**
 * A pod on this node, reached through the host side of its veth pair.
 *
 * @param ip the pod's IPv4 address
 * @param hostInterface name of the host-side veth (programs attach there)
 * @param identity the pod's security identity
 * @param ingressEnforced whether ingress traffic is checked against the endpoint's policy
 * @param egressEnforced whether egress traffic is checked against the endpoint's policy
 */
public record Endpoint(
    long id,
    int ip,
    String hostInterface,
    int identity,
    boolean ingressEnforced,
    boolean egressEnforced) {
  public Endpoint {
    java.util.Objects.requireNonNull(hostInterface, "hostInterface");
  }
}
