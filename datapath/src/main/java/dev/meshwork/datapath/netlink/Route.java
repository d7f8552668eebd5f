package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.Ipv4;

/**
 * An IPv4 unicast route of the main table.
 *
 * @param gateway 0 for a route without a next-hop gateway
 * @param scope {@link Rtnetlink#SCOPE_LINK} for a directly reachable destination, {@link
 *     Rtnetlink#SCOPE_UNIVERSE} for one via a gateway
 * @param onLink the gateway is reachable through the interface even without a route to it ({@code onlink})
 */
public record Route(int destination, int prefixLength, int gateway, int outputInterface, int scope, boolean onLink) {
  /** {@code <destination>/<length> dev <interface> scope link}. */
  public static Route toLink(int destination, int prefixLength, int outputInterface) {
    return new Route(destination, prefixLength, 0, outputInterface, Rtnetlink.SCOPE_LINK, false);
  }

  /** {@code default via <gateway> dev <interface> onlink}. */
  public static Route defaultViaOnLink(int gateway, int outputInterface) {
    return new Route(0, 0, gateway, outputInterface, Rtnetlink.SCOPE_UNIVERSE, true);
  }

  public boolean isDefault() {
    return prefixLength == 0;
  }

  /** In {@code ip route}'s words, with the interface by index. */
  @Override
  public String toString() {
    String text = (isDefault() ? "default" : Ipv4.format(destination) + "/" + prefixLength)
        + (gateway != 0 ? " via " + Ipv4.format(gateway) : "") + " dev #" + outputInterface;
    if (scope == Rtnetlink.SCOPE_LINK) {
      text += " scope link";
    }
    return onLink ? text + " onlink" : text;
  }
}
