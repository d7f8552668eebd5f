package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.testing.netns.NetworkNamespace;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The link manager contract with rtnetlink ({@code --endpoint-links=netlink}, the default), plus
 * the proof that it configures exactly what {@code ip} configures: the same pair set up by both
 * managers in two node/pod namespace pairs reads back identically through {@code ip}.
 */
class NetlinkLinkManagerPrivilegedIT extends KernelLinkManagerContract {
  /** Interface indexes and peer references differ between namespaces; everything else must not. */
  private static final Pattern INDEXES = Pattern.compile("^\\d+: |@if\\d+|link-netns(id)? \\S+|\\s+altname \\S+", Pattern.MULTILINE);

  @Override
  LinkManager linkManagerFor(Path nodeNetns) {
    return EndpointLinks.NETLINK.linkManager(Optional.of(nodeNetns));
  }

  @Test
  void configuresTheSameInterfacesAddressesRoutesAndNeighboursAsIp() throws Exception {
    NetworkNamespace ipNode = namespaces.create("ip-node");
    PodLink byIp = podLink("mwnsame", newPodNamespace("ip-pod"), 20);
    PodLink byNetlink = podLink("mwnsame", newPodNamespace("nl-pod"), 20);
    EndpointLinks.IP.linkManager(Optional.of(ipNode.path())).setUp(byIp);
    links.setUp(byNetlink);

    assertThat(nodeSide(node)).isEqualTo(nodeSide(ipNode)).contains("10.79.0.20 dev mwnsame scope link");
    NetworkNamespace ipPod = pod(byIp.netns()).orElseThrow();
    NetworkNamespace netlinkPod = pod(byNetlink.netns()).orElseThrow();
    assertThat(podSide(netlinkPod)).isEqualTo(podSide(ipPod))
        .contains("default via 10.79.0.1 dev eth0 onlink")
        .contains("10.79.0.1 lladdr 0e:00:00:00:00:14 PERMANENT");
  }

  @Test
  void podsReachEachOtherThroughTheNodeRoutes() throws Exception {
    node.execOrThrow("sysctl", "-qw", "net.ipv4.ip_forward=1");
    PodLink a = podLink("mwnpa", newPodNamespace("pod-a"), 30);
    PodLink b = podLink("mwnpb", newPodNamespace("pod-b"), 31);
    links.setUp(a);
    links.setUp(b);

    pod(a.netns()).orElseThrow().execOrThrow("busybox", "ping", "-c", "1", "-W", "2", "10.79.0.31");
  }

  private static String nodeSide(NetworkNamespace node) {
    return read(node, List.of(
        List.of("ip", "-d", "link", "show", "dev", "mwnsame"),
        List.of("ip", "-4", "route", "show", "table", "all")));
  }

  private static String podSide(NetworkNamespace pod) {
    return read(pod, List.of(
        List.of("ip", "-d", "link", "show", "dev", "eth0"),
        List.of("ip", "-4", "addr", "show", "dev", "eth0"),
        List.of("ip", "-4", "route", "show", "table", "all"),
        List.of("ip", "-4", "neigh", "show", "dev", "eth0")));
  }

  private static String read(NetworkNamespace netns, List<List<String>> commands) {
    StringBuilder out = new StringBuilder();
    for (List<String> command : commands) {
      out.append(netns.execOrThrow(command.toArray(String[]::new)).stdout());
    }
    return INDEXES.matcher(out).replaceAll("");
  }
}
