package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.Ipv4;

/** An IPv4 address on an interface ({@code RTM_GETADDR}); {@code ip} is the local address. */
public record Address(int interfaceIndex, int ip, int prefixLength) {
  @Override
  public String toString() {
    return Ipv4.format(ip) + "/" + prefixLength + " on interface " + interfaceIndex;
  }
}
