package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.netlink.Address;
import dev.meshwork.datapath.netlink.Link;
import dev.meshwork.datapath.netlink.Neighbour;
import dev.meshwork.datapath.netlink.NetlinkException;
import dev.meshwork.datapath.netlink.NetlinkSocket;
import dev.meshwork.datapath.netlink.NetnsFile;
import dev.meshwork.datapath.netlink.Route;
import dev.meshwork.datapath.netlink.Rtnetlink;
import dev.meshwork.datapath.netlink.Rtnetlink.VethEnd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * A {@link LinkManager} that speaks rtnetlink itself ({@code dev.meshwork.datapath.netlink}): no
 * process per ADD, a few socket round trips instead. It makes exactly what {@link
 * IpCommandLinkManager} makes: the veth pair with the pod side created directly in the pod's
 * namespace (by the namespace file's fd), the node's /32 route, and in the pod the address, a
 * link route to the gateway, the default route via it ({@code onlink}) and the gateway's
 * permanent neighbour entry. The pod side is configured through a netlink socket created inside
 * the pod's namespace (see {@link NetlinkSocket#openIn}).
 *
 * <p>{@code nodeNetns} is the node's namespace when it is not the agent's own (sandbox, tests);
 * empty in the agent, which runs in the host namespace. One socket per call, so concurrent ADDs
 * never share one.
 */
public final class NetlinkLinkManager implements LinkManager {
  private static final int HOST_ROUTE_LENGTH = 32;

  private final Optional<Path> nodeNetns;

  public NetlinkLinkManager() {
    this(Optional.empty());
  }

  public NetlinkLinkManager(Optional<Path> nodeNetns) {
    this.nodeNetns = nodeNetns;
  }

  @Override
  public boolean podInterfaceExists(String netns, String ifname) throws LinkException {
    if (!Files.exists(Path.of(netns))) {
      return false;
    }
    try (NetnsFile pod = NetnsFile.open(Path.of(netns)); NetlinkSocket socket = NetlinkSocket.openIn(pod)) {
      return new Rtnetlink(socket).link(ifname).isPresent();
    } catch (NetlinkException e) {
      if (e.isNotFound()) {
        return false; // the namespace went away since the check above
      }
      throw new LinkException("cannot look up interface " + ifname + " in " + netns + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void setUp(PodLink link) throws LinkException {
    try (NetnsFile pod = NetnsFile.open(Path.of(link.netns()))) {
      setUpNodeSide(link, pod);
      setUpPodSide(link, pod);
    } catch (NetlinkException e) {
      // only opening the namespace file lands here: the sides wrap their own failures
      throw new LinkException("cannot create veth " + link.hostInterface() + ": " + e.getMessage(), e);
    }
  }

  private void setUpNodeSide(PodLink link, NetnsFile pod) throws LinkException {
    VethEnd host = new VethEnd(link.hostInterface(), link.mtu(), link.hostMac());
    VethEnd peer = new VethEnd(link.podInterface(), link.mtu(), link.podMac());
    try (NetlinkSocket socket = nodeSocket()) {
      Rtnetlink node = new Rtnetlink(socket);
      try {
        node.createVeth(host, peer, pod);
      } catch (NetlinkException e) {
        if (!e.isAlreadyExists()) {
          throw e;
        }
        // a leftover of an earlier set-up of this attachment (the name is derived from it): replace it
        node.deleteLink(link.hostInterface());
        node.createVeth(host, peer, pod);
      }
      node.setUp(link.hostInterface());
      Link created = existing(node, link.hostInterface(), socket);
      node.replaceRoute(Route.toLink(link.ip(), HOST_ROUTE_LENGTH, created.index()));
    } catch (NetlinkException e) {
      throw new LinkException("cannot create veth " + link.hostInterface() + ": " + e.getMessage(), e);
    }
  }

  private static void setUpPodSide(PodLink link, NetnsFile pod) throws LinkException {
    try (NetlinkSocket socket = NetlinkSocket.openIn(pod)) {
      Rtnetlink inPod = new Rtnetlink(socket);
      Link eth = existing(inPod, link.podInterface(), socket);
      inPod.addAddress(eth, link.ip(), HOST_ROUTE_LENGTH);
      inPod.setUp(link.podInterface());
      inPod.replaceRoute(Route.toLink(link.gateway(), HOST_ROUTE_LENGTH, eth.index()));
      inPod.replaceRoute(Route.defaultViaOnLink(link.gateway(), eth.index()));
      inPod.replaceNeighbour(new Neighbour(eth.index(), link.gateway(), link.hostMac(), Rtnetlink.NUD_PERMANENT));
    } catch (NetlinkException e) {
      throw new LinkException("cannot configure " + link.podInterface() + " in " + link.netns() + ": " + e.getMessage(), e);
    }
  }

  private static Link existing(Rtnetlink rtnetlink, String name, NetlinkSocket socket) throws NetlinkException {
    Optional<Link> found = rtnetlink.link(name);
    if (found.isEmpty()) {
      throw new NetlinkException("interface " + name + " vanished from " + socket.namespace() + " right after it was created");
    }
    return found.get();
  }

  @Override
  public void remove(String hostInterface) throws LinkException {
    try (NetlinkSocket socket = nodeSocket()) {
      new Rtnetlink(socket).deleteLink(hostInterface); // false: already gone, which is fine
    } catch (NetlinkException e) {
      throw new LinkException("cannot delete veth " + hostInterface + ": " + e.getMessage(), e);
    }
  }

  @Override
  public List<String> verify(PodLink link) throws LinkException {
    List<String> problems = new ArrayList<>();
    String ip = Ipv4.format(link.ip());
    String gw = Ipv4.format(link.gateway());
    try (NetlinkSocket socket = nodeSocket()) {
      Rtnetlink node = new Rtnetlink(socket);
      Optional<Link> host = node.link(link.hostInterface());
      if (host.isEmpty()) {
        problems.add("host interface " + link.hostInterface() + " is missing");
      } else if (!host.get().up()) {
        problems.add("host interface " + link.hostInterface() + " is down");
      }
      List<Route> toPod = node.routes().stream()
          .filter(r -> r.destination() == link.ip() && r.prefixLength() == HOST_ROUTE_LENGTH).toList();
      if (host.isEmpty() || toPod.stream().noneMatch(r -> r.outputInterface() == host.get().index())) {
        problems.add("node has no route " + ip + "/32 via " + link.hostInterface() + " (found: '"
            + toPod.stream().map(Route::toString).collect(Collectors.joining("; ")) + "')");
      }
    } catch (NetlinkException e) {
      throw new LinkException("cannot read the node side of " + link.hostInterface() + ": " + e.getMessage(), e);
    }
    if (!Files.exists(Path.of(link.netns()))) {
      problems.add("network namespace " + link.netns() + " is gone");
      return problems;
    }
    try (NetnsFile pod = NetnsFile.open(Path.of(link.netns())); NetlinkSocket socket = NetlinkSocket.openIn(pod)) {
      verifyPodSide(link, new Rtnetlink(socket), problems, ip, gw);
    } catch (NetlinkException e) {
      if (e.isNotFound() && !Files.exists(Path.of(link.netns()))) {
        problems.add("network namespace " + link.netns() + " is gone");
        return problems;
      }
      throw new LinkException("cannot read " + link.podInterface() + " in " + link.netns() + ": " + e.getMessage(), e);
    }
    return problems;
  }

  private static void verifyPodSide(PodLink link, Rtnetlink inPod, List<String> problems, String ip, String gw)
      throws NetlinkException {
    Optional<Link> found = inPod.link(link.podInterface());
    if (found.isEmpty()) {
      problems.add("interface " + link.podInterface() + " is missing in " + link.netns());
      return;
    }
    Link eth = found.get();
    if (eth.mtu() != link.mtu()) {
      problems.add(link.podInterface() + " does not have MTU " + link.mtu());
    }
    if (!inPod.addresses().contains(new Address(eth.index(), link.ip(), HOST_ROUTE_LENGTH))) {
      problems.add(link.podInterface() + " does not carry " + ip + "/32");
    }
    List<Route> routes = inPod.routes().stream().filter(r -> r.outputInterface() == eth.index()).toList();
    if (routes.stream().noneMatch(r -> r.isDefault() && r.gateway() == link.gateway())) {
      problems.add(link.podInterface() + " has no default route via " + gw);
    }
    if (routes.stream().noneMatch(r -> r.destination() == link.gateway() && r.prefixLength() == HOST_ROUTE_LENGTH
        && r.gateway() == 0 && r.scope() == Rtnetlink.SCOPE_LINK)) {
      problems.add(link.podInterface() + " has no link route to the gateway " + gw);
    }
  }

  private NetlinkSocket nodeSocket() throws NetlinkException {
    if (nodeNetns.isEmpty()) {
      return NetlinkSocket.open();
    }
    try (NetnsFile node = NetnsFile.open(nodeNetns.get())) {
      return NetlinkSocket.openIn(node);
    }
  }
}
