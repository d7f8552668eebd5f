package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The endpoint manager with the real rtnetlink link manager (the default), run inside a "node" network
 * namespace (never the host's): pods in their own namespaces get veth pairs, addresses and routes,
 * and reach each other through the node's /32 routes. Needs root, iproute2, nsenter and busybox (ping).
 */
@Tag("privileged")
class EndpointPrivilegedIT {
  private static final IpPrefix POD_CIDR = IpPrefix.parse("10.77.3.0/24");

  @TempDir Path stateDir;
  private NetworkNamespaces namespaces;
  private NetworkNamespace node;
  private final FakeIdentityResolver identities = new FakeIdentityResolver();
  private final FakeDatapath datapath = new FakeDatapath();
  private EndpointManager manager;

  @BeforeEach
  void node() throws Exception {
    NetworkNamespaces.assumeRoot();
    namespaces = new NetworkNamespaces("endpoint");
    node = namespaces.create("node");
    node.nsenterOrThrow("sysctl", "-qw", "net.ipv4.ip_forward=1");
    manager = EndpointManager.open(new EndpointConfig(POD_CIDR, stateDir, 1450, Duration.ofSeconds(2)),
        EndpointLinks.NETLINK.linkManager(Optional.of(node.path())), identities,
        new DatapathEndpointSink(datapath));
  }

  @AfterEach
  void cleanUp() {
    if (namespaces != null) {
      namespaces.close(); // deleting the node namespace deletes every veth created in it
    }
  }

  private CniRequest pod(NetworkNamespace netns, String name) {
    PodRef ref = new PodRef("default", name);
    identities.publish(ref, new PodIdentity(5000 + name.length(), List.of("k8s:app=" + name)));
    return CniRequest.newBuilder().setContainerId("mwt-" + name).setNetns(netns.path().toString()).setIfname("eth0")
        .setNetworkName("meshwork").putArgs("K8S_POD_NAMESPACE", "default").putArgs("K8S_POD_NAME", name).build();
  }

  private static String ip(CniResult result) {
    return result.getIps(0).getAddress().replace("/32", "");
  }

  @Test
  void twoPodsOnTheNodeReachEachOtherThroughTheHostRoutes() throws Exception {
    NetworkNamespace a = namespaces.create("pod-a");
    NetworkNamespace b = namespaces.create("pod-b");
    CniRequest addA = pod(a, "a");
    CniResult resultA = manager.add(addA);
    CniResult resultB = manager.add(pod(b, "b"));

    assertThat(a.execOrThrow("ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout()).contains("inet " + ip(resultA) + "/32");
    assertThat(a.execOrThrow("ip", "-4", "route", "show").stdout()).contains("default via 10.77.3.1 dev eth0");
    assertThat(a.execOrThrow("ip", "-o", "link", "show", "dev", "eth0").stdout()).contains("mtu 1450");
    assertThat(node.execOrThrow("ip", "-4", "route", "show").stdout())
        .contains(ip(resultA) + " dev " + resultA.getInterfaces(0).getName())
        .contains(ip(resultB) + " dev " + resultB.getInterfaces(0).getName());
    a.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", ip(resultB));
    b.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", ip(resultA));
    manager.check(addA);
  }

  @Test
  void replacesALeftoverHostInterfaceOfTheSameAttachment() throws Exception {
    NetworkNamespace a = namespaces.create("pod-a");
    String leftover = EndpointManager.hostInterfaceOf(new AttachmentKey("mwt-a", "eth0"));
    node.execOrThrow("ip", "link", "add", leftover, "type", "veth", "peer", "name", "stale0");

    CniRequest add = pod(a, "a");
    assertThat(manager.add(add).getInterfaces(0).getName()).isEqualTo(leftover);
    manager.check(add);
  }

  @Test
  void checkNoticesARemovedRouteAndDelRemovesTheVethPair() throws Exception {
    NetworkNamespace a = namespaces.create("pod-a");
    CniRequest add = pod(a, "a");
    String hostInterface = manager.add(add).getInterfaces(0).getName();
    a.execOrThrow("ip", "route", "del", "default");

    assertThatThrownBy(() -> manager.check(add)).isInstanceOfSatisfying(CniFailure.class,
        e -> assertThat(e.details()).contains("no default route via 10.77.3.1"));

    manager.delete(add);
    manager.delete(add);
    assertThat(node.exec("ip", "link", "show", "dev", hostInterface).exitCode()).isNotZero();
    assertThat(a.exec("ip", "link", "show", "dev", "eth0").exitCode()).isNotZero();
  }

  @Test
  void addFailsWhenThePodAlreadyHasTheInterfaceAndDelWorksAfterTheNamespaceIsGone() throws Exception {
    NetworkNamespace a = namespaces.create("pod-a");
    a.execOrThrow("ip", "link", "add", "eth0", "type", "veth", "peer", "name", "other0");
    assertThatThrownBy(() -> manager.add(pod(a, "a"))).isInstanceOfSatisfying(CniFailure.class,
        e -> assertThat(e.code()).isEqualTo(CniFailure.ALREADY_EXISTS));

    NetworkNamespace b = namespaces.create("pod-b");
    CniRequest add = pod(b, "b");
    String hostInterface = manager.add(add).getInterfaces(0).getName();
    b.close();

    manager.delete(add.toBuilder().setNetns("").build());
    assertThat(node.exec("ip", "link", "show", "dev", hostInterface).exitCode()).isNotZero();
    assertThat(manager.endpoints()).isEmpty();
  }
}
