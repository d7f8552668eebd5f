package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.Ipv4;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The rtnetlink operations the agent needs on one {@link NetlinkSocket} (and so in that socket's
 * network namespace): veth pairs, links up, IPv4 addresses, routes of the main table and
 * neighbour entries, plus reading them back. Each request is one round trip; errors name the
 * message, the object and the namespace.
 */
public final class Rtnetlink {
  // message types (include/uapi/linux/rtnetlink.h)
  static final int RTM_NEWLINK = 16;
  static final int RTM_DELLINK = 17;
  static final int RTM_GETLINK = 18;
  static final int RTM_NEWADDR = 20;
  static final int RTM_GETADDR = 22;
  static final int RTM_NEWROUTE = 24;
  static final int RTM_GETROUTE = 26;
  static final int RTM_NEWNEIGH = 28;
  static final int RTM_GETNEIGH = 30;

  static final int AF_UNSPEC = 0;
  static final int AF_INET = 2;
  static final int IFF_UP = 0x1;

  // family header sizes: ifinfomsg, ifaddrmsg, rtmsg, ndmsg
  static final int IFINFOMSG_LENGTH = 16;
  static final int IFADDRMSG_LENGTH = 8;
  static final int RTMSG_LENGTH = 12;
  static final int NDMSG_LENGTH = 12;

  // link attributes
  static final int IFLA_ADDRESS = 1;
  static final int IFLA_IFNAME = 3;
  static final int IFLA_MTU = 4;
  static final int IFLA_LINKINFO = 18;
  static final int IFLA_NET_NS_FD = 28;
  static final int IFLA_INFO_KIND = 1;
  static final int IFLA_INFO_DATA = 2;
  static final int VETH_INFO_PEER = 1;
  // address attributes
  static final int IFA_ADDRESS = 1;
  static final int IFA_LOCAL = 2;
  // route attributes and values
  static final int RTA_DST = 1;
  static final int RTA_OIF = 4;
  static final int RTA_GATEWAY = 5;
  static final int RTA_TABLE = 15;
  static final int RT_TABLE_MAIN = 254;
  /** What {@code ip route add/replace} stamps on a route it makes. */
  static final int RTPROT_BOOT = 3;
  static final int RTN_UNICAST = 1;
  static final int RTNH_F_ONLINK = 0x4;
  public static final int SCOPE_UNIVERSE = 0;
  public static final int SCOPE_LINK = 253;
  // neighbour attributes and states
  static final int NDA_DST = 1;
  static final int NDA_LLADDR = 2;
  public static final int NUD_PERMANENT = 0x80;

  private final NetlinkSocket socket;

  public Rtnetlink(NetlinkSocket socket) {
    this.socket = socket;
  }

  /** One side of a veth pair: its name, MTU and MAC. */
  public record VethEnd(String name, int mtu, String mac) {}

  /**
   * Creates a veth pair: {@code local} in this socket's namespace, {@code peer} directly in the
   * namespace {@code peerNamespace} (never visible in this one). Fails with EEXIST when either
   * name is taken in its namespace.
   */
  public void createVeth(VethEnd local, VethEnd peer, NetnsFile peerNamespace) throws NetlinkException {
    socket.acknowledge(newVeth(local, peer, peerNamespace.fd()), "RTM_NEWLINK veth " + local.name() + " with peer "
        + peer.name() + " in " + peerNamespace + ", from " + socket.namespace());
  }

  /** The peer's own {@code ifinfomsg} and attributes are nested in {@code IFLA_INFO_DATA/VETH_INFO_PEER}. */
  static NetlinkRequest newVeth(VethEnd local, VethEnd peer, int peerNamespaceFd) {
    NetlinkRequest request = linkRequest(RTM_NEWLINK, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL, 0);
    vethEndAttributes(request, local)
        .beginNested(IFLA_LINKINFO)
        .attributeString(IFLA_INFO_KIND, "veth")
        .beginNested(IFLA_INFO_DATA)
        .beginNested(VETH_INFO_PEER);
    ifinfomsg(request, 0);
    return vethEndAttributes(request, peer)
        .attributeU32(IFLA_NET_NS_FD, peerNamespaceFd)
        .endNested()
        .endNested()
        .endNested();
  }

  private static NetlinkRequest vethEndAttributes(NetlinkRequest request, VethEnd end) {
    return request.attributeString(IFLA_IFNAME, end.name())
        .attributeU32(IFLA_MTU, end.mtu())
        .attribute(IFLA_ADDRESS, MacAddress.parse(end.mac()));
  }

  /** Sets the link administratively up, like {@code ip link set <name> up}. */
  public void setUp(String name) throws NetlinkException {
    NetlinkRequest request = linkRequest(RTM_NEWLINK, 0, IFF_UP).attributeString(IFLA_IFNAME, name);
    socket.acknowledge(request, "RTM_NEWLINK set " + name + " up in " + socket.namespace());
  }

  /** Deletes a link (for a veth, the kernel deletes its peer too); false when there was none of that name. */
  public boolean deleteLink(String name) throws NetlinkException {
    NetlinkRequest request = linkRequest(RTM_DELLINK, 0, 0).attributeString(IFLA_IFNAME, name);
    try {
      socket.acknowledge(request, "RTM_DELLINK " + name + " in " + socket.namespace());
      return true;
    } catch (NetlinkException e) {
      if (e.isNotFound()) {
        return false;
      }
      throw e;
    }
  }

  /** The link called {@code name}, empty when there is none. */
  public Optional<Link> link(String name) throws NetlinkException {
    NetlinkRequest request = linkRequest(RTM_GETLINK, 0, 0).attributeString(IFLA_IFNAME, name);
    NetlinkMessage reply;
    try {
      reply = socket.get(request, "RTM_GETLINK " + name + " in " + socket.namespace());
    } catch (NetlinkException e) {
      if (e.isNotFound()) {
        return Optional.empty();
      }
      throw e;
    }
    return Optional.of(parseLink(reply));
  }

  static Link parseLink(NetlinkMessage message) {
    int index = message.payload().getInt(4);
    int flags = message.payload().getInt(8);
    Attributes a = message.attributes(IFINFOMSG_LENGTH);
    return new Link(index, a.string(IFLA_IFNAME).orElse(""), a.u32(IFLA_MTU).orElse(0), (flags & IFF_UP) != 0,
        a.bytes(IFLA_ADDRESS).map(MacAddress::format).orElse(""));
  }

  /** {@code ifinfomsg} with the given flags set (and only those changed). */
  private static NetlinkRequest linkRequest(int type, int flags, int upFlags) {
    return ifinfomsg(new NetlinkRequest(type, flags), upFlags);
  }

  private static NetlinkRequest ifinfomsg(NetlinkRequest request, int upFlags) {
    return request.u8(AF_UNSPEC).u8(0).u16(0).u32(0).u32(upFlags).u32(upFlags);
  }

  /** Adds {@code ip/prefixLength} to {@code link} ({@code ip addr add}); EEXIST when it is there already. */
  public void addAddress(Link link, int ip, int prefixLength) throws NetlinkException {
    socket.acknowledge(newAddress(link.index(), ip, prefixLength), "RTM_NEWADDR " + Ipv4.format(ip) + "/" + prefixLength + " on " + link.name()
        + " in " + socket.namespace());
  }

  static NetlinkRequest newAddress(int interfaceIndex, int ip, int prefixLength) {
    return new NetlinkRequest(RTM_NEWADDR, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL)
        .u8(AF_INET).u8(prefixLength).u8(0).u8(SCOPE_UNIVERSE).u32(interfaceIndex)
        .attributeIpv4(IFA_LOCAL, ip)
        .attributeIpv4(IFA_ADDRESS, ip);
  }

  /** Every IPv4 address in the namespace. */
  public List<Address> addresses() throws NetlinkException {
    NetlinkRequest request = new NetlinkRequest(RTM_GETADDR, 0).u8(AF_INET).u8(0).u8(0).u8(0).u32(0);
    List<Address> addresses = new ArrayList<>();
    for (NetlinkMessage m : socket.dump(request, "RTM_GETADDR in " + socket.namespace())) {
      if (Byte.toUnsignedInt(m.payload().get(0)) != AF_INET) {
        continue;
      }
      Attributes a = m.attributes(IFADDRMSG_LENGTH);
      a.ipv4(IFA_LOCAL).or(() -> a.ipv4(IFA_ADDRESS)).ifPresent(ip ->
          addresses.add(new Address(m.payload().getInt(4), ip, Byte.toUnsignedInt(m.payload().get(1)))));
    }
    return addresses;
  }

  /** Adds or replaces a route of the main table ({@code ip route replace}). */
  public void replaceRoute(Route route) throws NetlinkException {
    socket.acknowledge(newRoute(route), "RTM_NEWROUTE " + route + " in " + socket.namespace());
  }

  /** As {@code ip route replace} sends it: main table, protocol boot, unicast. */
  static NetlinkRequest newRoute(Route route) {
    NetlinkRequest request = new NetlinkRequest(RTM_NEWROUTE, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_REPLACE)
        .u8(AF_INET).u8(route.prefixLength()).u8(0).u8(0)
        .u8(RT_TABLE_MAIN).u8(RTPROT_BOOT).u8(route.scope()).u8(RTN_UNICAST)
        .u32(route.onLink() ? RTNH_F_ONLINK : 0);
    if (!route.isDefault()) {
      request.attributeIpv4(RTA_DST, route.destination());
    }
    if (route.gateway() != 0) {
      request.attributeIpv4(RTA_GATEWAY, route.gateway());
    }
    return request.attributeU32(RTA_OIF, route.outputInterface());
  }

  /** The IPv4 unicast routes of the main table. */
  public List<Route> routes() throws NetlinkException {
    NetlinkRequest request = new NetlinkRequest(RTM_GETROUTE, 0).u8(AF_INET).u8(0).u8(0).u8(0)
        .u8(0).u8(0).u8(0).u8(0).u32(0);
    List<Route> routes = new ArrayList<>();
    for (NetlinkMessage m : socket.dump(request, "RTM_GETROUTE in " + socket.namespace())) {
      Route route = parseRoute(m);
      if (route != null) {
        routes.add(route);
      }
    }
    return routes;
  }

  /** The route in {@code message}, or null when it is not an IPv4 unicast route of the main table. */
  static Route parseRoute(NetlinkMessage message) {
    var p = message.payload();
    Attributes a = message.attributes(RTMSG_LENGTH);
    int table = a.u32(RTA_TABLE).orElse(Byte.toUnsignedInt(p.get(4)));
    if (Byte.toUnsignedInt(p.get(0)) != AF_INET || table != RT_TABLE_MAIN || Byte.toUnsignedInt(p.get(7)) != RTN_UNICAST) {
      return null;
    }
    return new Route(a.ipv4(RTA_DST).orElse(0), Byte.toUnsignedInt(p.get(1)), a.ipv4(RTA_GATEWAY).orElse(0),
        a.u32(RTA_OIF).orElse(0), Byte.toUnsignedInt(p.get(6)), (p.getInt(8) & RTNH_F_ONLINK) != 0);
  }

  /** Adds or replaces a neighbour entry ({@code ip neigh replace ... nud <state>}). */
  public void replaceNeighbour(Neighbour neighbour) throws NetlinkException {
    socket.acknowledge(newNeighbour(neighbour), "RTM_NEWNEIGH " + neighbour + " in " + socket.namespace());
  }

  static NetlinkRequest newNeighbour(Neighbour neighbour) {
    return new NetlinkRequest(RTM_NEWNEIGH, NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_REPLACE)
        .u8(AF_INET).u8(0).u16(0).u32(neighbour.interfaceIndex()).u16(neighbour.state()).u8(0).u8(0)
        .attributeIpv4(NDA_DST, neighbour.ip())
        .attribute(NDA_LLADDR, MacAddress.parse(neighbour.mac()));
  }

  /** Every IPv4 neighbour entry in the namespace. */
  public List<Neighbour> neighbours() throws NetlinkException {
    NetlinkRequest request = new NetlinkRequest(RTM_GETNEIGH, 0).u8(AF_INET).u8(0).u16(0).u32(0).u16(0).u8(0).u8(0);
    List<Neighbour> neighbours = new ArrayList<>();
    for (NetlinkMessage m : socket.dump(request, "RTM_GETNEIGH in " + socket.namespace())) {
      Attributes a = m.attributes(NDMSG_LENGTH);
      if (Byte.toUnsignedInt(m.payload().get(0)) != AF_INET || a.ipv4(NDA_DST).isEmpty()) {
        continue;
      }
      neighbours.add(new Neighbour(m.payload().getInt(4), a.ipv4(NDA_DST).get(),
          a.bytes(NDA_LLADDR).map(MacAddress::format).orElse(""), Short.toUnsignedInt(m.payload().getShort(8))));
    }
    return neighbours;
  }
}
