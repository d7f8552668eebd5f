package dev.meshwork.datapath.netlink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.Ipv4;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * rtnetlink against the kernel, only inside namespaces of its own ({@code mwt-mwn-netlink-*}):
 * sockets opened in a namespace stay there, requests and dumps work, errors carry errno names.
 * Reading the host's links is the only thing done outside, and it changes nothing.
 */
@Tag("privileged")
class NetlinkSocketPrivilegedIT {
  private NetworkNamespaces namespaces;
  private NetworkNamespace ns;
  private NetnsFile nsFile;

  @BeforeEach
  void namespace() throws Exception {
    NetworkNamespaces.assumeRoot();
    namespaces = new NetworkNamespaces("mwn-netlink");
    ns = namespaces.create("a");
    nsFile = NetnsFile.open(ns.path());
  }

  @AfterEach
  void cleanUp() {
    if (nsFile != null) {
      nsFile.close();
    }
    if (namespaces != null) {
      namespaces.close();
    }
  }

  @Test
  void aSocketOpenedInANamespaceSeesThatNamespaceAndTheCallerStaysHome() throws Exception {
    ns.execOrThrow("ip", "link", "add", "mwnx0", "type", "veth", "peer", "name", "mwnx1");
    String before = Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();

    try (NetlinkSocket inside = NetlinkSocket.openIn(nsFile); NetlinkSocket here = NetlinkSocket.open()) {
      assertThat(new Rtnetlink(inside).link("mwnx0")).isPresent();
      assertThat(new Rtnetlink(here).link("mwnx0")).isEmpty();
    }
    assertThat(Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString()).isEqualTo(before);
  }

  @Test
  void vethAddressRouteAndNeighbourReadBackAsWritten() throws Exception {
    NetworkNamespace peerNs = namespaces.create("b");
    try (NetnsFile peerFile = NetnsFile.open(peerNs.path()); NetlinkSocket socket = NetlinkSocket.openIn(nsFile)) {
      Rtnetlink rt = new Rtnetlink(socket);
      rt.createVeth(new Rtnetlink.VethEnd("mwnv0", 1400, "0e:00:00:00:00:aa"),
          new Rtnetlink.VethEnd("mwnv1", 1400, "0e:00:00:00:00:bb"), peerFile);
      rt.setUp("mwnv0");
      Link link = rt.link("mwnv0").orElseThrow();
      rt.addAddress(link, Ipv4.parse("10.79.9.2"), 32);
      rt.replaceRoute(Route.toLink(Ipv4.parse("10.79.9.1"), 32, link.index()));
      rt.replaceRoute(Route.defaultViaOnLink(Ipv4.parse("10.79.9.1"), link.index()));
      Neighbour gateway = new Neighbour(link.index(), Ipv4.parse("10.79.9.1"), "0e:00:00:00:00:bb", Rtnetlink.NUD_PERMANENT);
      rt.replaceNeighbour(gateway);

      assertThat(link).isEqualTo(new Link(link.index(), "mwnv0", 1400, true, "0e:00:00:00:00:aa"));
      assertThat(rt.addresses()).contains(new Address(link.index(), Ipv4.parse("10.79.9.2"), 32));
      assertThat(rt.routes()).contains(Route.toLink(Ipv4.parse("10.79.9.1"), 32, link.index()),
          Route.defaultViaOnLink(Ipv4.parse("10.79.9.1"), link.index()));
      assertThat(rt.neighbours()).contains(gateway);
      assertThat(peerNs.execOrThrow("ip", "-o", "link", "show", "dev", "mwnv1").stdout())
          .contains("mtu 1400").contains("0e:00:00:00:00:bb");
    }
  }

  @Test
  void refusalsCarryTheErrnoNameAndTheObject() throws Exception {
    try (NetlinkSocket socket = NetlinkSocket.openIn(nsFile)) {
      Rtnetlink rt = new Rtnetlink(socket);
      Link lo = rt.link("lo").orElseThrow();
      rt.addAddress(lo, Ipv4.parse("10.79.9.9"), 32);

      assertThatThrownBy(() -> rt.addAddress(lo, Ipv4.parse("10.79.9.9"), 32))
          .isInstanceOf(NetlinkException.class)
          .hasMessageContaining("RTM_NEWADDR 10.79.9.9/32 on lo in network namespace " + ns.path())
          .hasMessageContaining("EEXIST");
      assertThat(rt.deleteLink("mwn-absent")).isFalse();
      assertThat(rt.link("mwn-absent")).isEmpty();
    }
  }

  @Test
  void aMissingNamespaceFileIsNamed() {
    assertThatThrownBy(() -> NetnsFile.open(Path.of("/run/netns/" + namespaces.prefix() + "-never")))
        .isInstanceOf(NetlinkException.class)
        .hasMessageContaining(namespaces.prefix() + "-never")
        .hasMessageContaining("ENOENT")
        .matches(e -> ((NetlinkException) e).isNotFound());
  }
}
