package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.Ipv4;

/**
 * An IPv4 neighbour (ARP) entry.
 *
 * @param state {@code NUD_*} bits; {@link Rtnetlink#NUD_PERMANENT} for a pinned entry
 */
public record Neighbour(int interfaceIndex, int ip, String mac, int state) {
  public boolean isPermanent() {
    return (state & Rtnetlink.NUD_PERMANENT) != 0;
  }

  @Override
  public String toString() {
    return Ipv4.format(ip) + " lladdr " + mac + " dev #" + interfaceIndex + (isPermanent() ? " PERMANENT" : " state " + state);
  }
}
