package dev.meshwork.datapath.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.datapath.bpf.BpfDatapath.DropReason;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Real packets through our programs: two nodes (namespaces joined by an underlay veth,
 * 198.18.0.1 and 198.18.0.2) each running a BpfDatapath with its VXLAN device, and pods as
 * namespaces behind veths. Node 1 has pods A (identity 0x10101) and D (0x10102); node 2 has
 * pods B (0x20105) and C (0x20106); a client outside the mesh sits behind node 1's external
 * device ext0 (198.18.1.2 → 198.18.1.1). Every pod runs a small server (traffic.py) that answers
 * with its name and the client IP it saw.
 */
@Tag("privileged")
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TwoNodeTrafficPrivilegedIT {
  private static final int NODE1 = Ipv4.parse("198.18.0.1");
  private static final int NODE2 = Ipv4.parse("198.18.0.2");

  record Pod(String name, String ns, String hostIf, int ip, int identity, int node) {}

  private TestNetwork net;
  private PrivateBpffs bpffs;
  private Path script;
  private String node1;
  private String node2;
  private String outside;
  private BpfDatapathConfig config1;
  private BpfDatapathConfig config2;
  private BpfDatapath dp1;
  private BpfDatapath dp2;
  private Pod a;
  private Pod d;
  private Pod b;
  private Pod c;

  @BeforeAll
  void buildTwoNodes() throws Exception {
    Privileged.assumeRoot();
    net = new TestNetwork();
    bpffs = new PrivateBpffs();
    script = Files.createTempFile(net.prefix() + "-traffic", ".py");
    try (InputStream in = getClass().getResourceAsStream("traffic.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    node1 = net.namespace("node1");
    node2 = net.namespace("node2");
    net.veth(node1, "ul0", node2, "ul0");
    net.exec(node1, "ip", "addr", "add", "198.18.0.1/24", "dev", "ul0");
    net.exec(node2, "ip", "addr", "add", "198.18.0.2/24", "dev", "ul0");

    // A client outside the mesh, behind node 1's external device ext0.
    outside = net.namespace("outside");
    net.veth(node1, "ext0", outside, "eth0");
    net.exec(node1, "ip", "addr", "add", "198.18.1.1/24", "dev", "ext0");
    net.exec(node1, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    net.exec(outside, "ip", "addr", "add", "198.18.1.2/24", "dev", "eth0");
    net.exec(outside, "ip", "route", "add", "default", "via", "198.18.1.1");

    a = pod("a", node1, "10.1.1.5", 0x10101, NODE1);
    d = pod("d", node1, "10.1.1.6", 0x10102, NODE1);
    b = pod("b", node2, "10.2.0.7", 0x20105, NODE2);
    c = pod("c", node2, "10.2.0.8", 0x20106, NODE2);

    config1 = nodeConfig("node1", node1).withExternalDevices(List.of("ext0"));
    config2 = nodeConfig("node2", node2);
    dp1 = BpfDatapath.open(config1);
    dp2 = BpfDatapath.open(config2);
    dp1.apply(baseline(NODE1).build());
    dp2.apply(baseline(NODE2).build());

    for (Pod p : List.of(a, d, b, c)) {
      serve(p, "tcp", 8080);
      serve(p, "udp", 5353);
    }
  }

  private BpfDatapathConfig nodeConfig(String name, String ns) {
    return BpfDatapathConfig.forNode(name)
        .withBpffsRoot(bpffs.root().resolve("meshwork"))
        .withNetns(TestNetwork.path(ns))
        .withVxlanDevice("mw_vxlan")
        .withMapSizes(BpfDatapathConfig.MapSizes.uniform(4096));
  }

  /** What a node's agent would program: its pods, the ipcache and the other node's pod CIDR. */
  private ChangeSet.Builder baseline(int node) {
    ChangeSet.Builder cs = ChangeSet.builder();
    for (Pod p : List.of(a, d, b, c)) {
      boolean local = p.node() == node;
      if (local) cs.upsert(new Endpoint(p.ip() & 0xffff, p.ip(), p.hostIf(), p.identity(), false, false));
      cs.upsert(new IpCacheEntry(IpPrefix.host(p.ip()), p.identity(), local ? 0 : p.node()));
    }
    // Node addresses: the own one is "host" (1), the other "remote-node" (6); NodePort uses this.
    cs.upsert(new IpCacheEntry(IpPrefix.host(NODE1), node == NODE1 ? 1 : 6, 0));
    cs.upsert(new IpCacheEntry(IpPrefix.host(NODE2), node == NODE2 ? 1 : 6, 0));
    if (node == NODE1) cs.upsert(new IpCacheEntry(IpPrefix.parse("198.18.1.1/32"), 1, 0)); // ext0
    if (node == NODE1) {
      cs.upsert(new IpCacheEntry(IpPrefix.parse("10.2.0.0/24"), 6, NODE2));
    } else {
      cs.upsert(new IpCacheEntry(IpPrefix.parse("10.1.1.0/24"), 6, NODE1));
    }
    return cs;
  }

  private Pod pod(String name, String nodeNs, String ip, int identity, int node) throws IOException {
    String ns = net.namespace("pod-" + name);
    String hostIf = "lxc-" + name;
    net.veth(nodeNs, hostIf, ns, "eth0");
    net.exec(ns, "ip", "addr", "add", ip + "/32", "dev", "eth0");
    net.exec(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
    net.exec(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
    return new Pod(name, ns, hostIf, Ipv4.parse(ip), identity, node);
  }

  private void serve(Pod p, String proto, int port) throws Exception {
    Process server = net.start(p.ns(), "python3", "-u", script.toString(), "serve", "pod-" + p.name(), proto, Integer.toString(port));
    String first = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8)).readLine();
    assertThat(first).as("server %s/%s in pod %s", proto, port, p.name()).isEqualTo("ready");
  }

  /** One request from a pod; the answer line, or null when it failed (dropped, refused). */
  private String get(Pod from, String proto, String host, int port) throws Exception {
    return getFrom(from.ns(), proto, host, port);
  }

  private String getFrom(String ns, String proto, String host, int port) throws Exception {
    try {
      return net.exec(ns, "python3", script.toString(), "get", proto, host, Integer.toString(port)).trim();
    } catch (IOException failed) {
      return null;
    }
  }

  private static String ipOf(Pod p) {
    return Ipv4.format(p.ip());
  }

  @AfterAll
  void removeEverything() throws Exception {
    if (net == null) return;
    String prefix = net.prefix();
    try {
      for (BpfDatapath dp : new BpfDatapath[] {dp1, dp2}) {
        if (dp != null) dp.destroy();
      }
      Files.deleteIfExists(script);
    } finally {
      try {
        bpffs.close();
      } finally {
        net.close();
      }
    }
    assertThat(Privileged.run("ip", "netns", "list")).doesNotContain(prefix);
    assertThat(Files.exists(bpffs.root())).as("private bpffs unmounted and removed").isFalse();
    assertThat(Privileged.run("cat", "/proc/mounts")).doesNotContain(bpffs.root().toString());
  }

  @Test
  void podReachesAPodOnAnotherNodeThroughTheTunnel() throws Exception {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(get(a, "tcp", ipOf(b), 8080)).isEqualTo("pod-b 10.1.1.5"));
    assertThat(get(b, "tcp", ipOf(a), 8080)).isEqualTo("pod-a 10.2.0.7");
    assertThat(get(a, "tcp", ipOf(d), 8080)).as("same node").isEqualTo("pod-d 10.1.1.5");
  }

  @Test
  void clusterIpSendsTcpAndUdpToABackendOnTheOtherNodeAndRepliesComeFromTheClusterIp() throws Exception {
    dp1.apply(ChangeSet.builder()
        .upsert(new Service(new L4Address(Ipv4.parse("10.96.0.10"), 80, Protocol.TCP), Service.Kind.CLUSTER_IP, 10,
            List.of(new L4Address(b.ip(), 8080, Protocol.TCP)), 0))
        .upsert(new Service(new L4Address(Ipv4.parse("10.96.0.53"), 53, Protocol.UDP), Service.Kind.CLUSTER_IP, 11,
            List.of(new L4Address(b.ip(), 5353, Protocol.UDP)), 0))
        .build());

    // A TCP handshake only completes when the SYN-ACK comes from the address A connected to.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(get(a, "tcp", "10.96.0.10", 80)).isEqualTo("pod-b 10.1.1.5"));
    assertThat(get(a, "udp", "10.96.0.53", 53)).isEqualTo("pod-b 10.1.1.5 from 10.96.0.53:53");
  }

  @Test
  void nodePortOfAnotherNodeReachesTheBackendAndRepliesComeFromThatNode() throws Exception {
    Service nodePort = new Service(new L4Address(0, 30080, Protocol.TCP), Service.Kind.NODE_PORT, 50,
        List.of(new L4Address(b.ip(), 8080, Protocol.TCP)), 0);
    dp1.apply(ChangeSet.builder().upsert(nodePort).build());
    dp2.apply(ChangeSet.builder().upsert(nodePort).build());

    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(get(a, "tcp", "198.18.0.2", 30080)).isEqualTo("pod-b 10.1.1.5"));
    assertThat(get(d, "tcp", "198.18.0.1", 30080)).as("own node's NodePort").isEqualTo("pod-b 10.1.1.6");
    assertThat(get(a, "tcp", "198.18.0.2", 30081)).as("no such NodePort").isNull();
  }

  @Test
  void clientsOutsideTheMeshReachNodePortsAndExternalIpsAndSeeRepliesFromThem() throws Exception {
    dp1.apply(ChangeSet.builder()
        .upsert(new Service(new L4Address(0, 30090, Protocol.TCP), Service.Kind.NODE_PORT, 60,
            List.of(new L4Address(b.ip(), 8080, Protocol.TCP)), 0))
        .upsert(new Service(new L4Address(Ipv4.parse("198.18.100.1"), 80, Protocol.TCP), Service.Kind.EXTERNAL_IP, 61,
            List.of(new L4Address(d.ip(), 8080, Protocol.TCP)), 0))
        .upsert(new Service(new L4Address(Ipv4.parse("10.96.0.60"), 80, Protocol.TCP), Service.Kind.CLUSTER_IP, 62,
            List.of(new L4Address(d.ip(), 8080, Protocol.TCP)), 0))
        .build());

    // Backend on the other node: tunnelled there, the reply tunnelled back to be translated.
    await().atMost(Duration.ofSeconds(10)).untilAsserted(
        () -> assertThat(getFrom(outside, "tcp", "198.18.1.1", 30090)).isEqualTo("pod-b 198.18.1.2"));
    // Backend on this node, through an external IP.
    assertThat(getFrom(outside, "tcp", "198.18.100.1", 80)).isEqualTo("pod-d 198.18.1.2");
    assertThat(getFrom(outside, "udp", "198.18.1.1", 30090)).as("no UDP NodePort").isNull();
  }

  @Test
  void receiverEnforcesPolicyOnTheIdentityCarriedInTheVni() throws Exception {
    // Node 2 believes A's address has identity 999; only the VNI says 0x10101.
    dp2.apply(ChangeSet.builder()
        .upsert(new IpCacheEntry(IpPrefix.host(a.ip()), 999, NODE1))
        .upsert(new IpCacheEntry(IpPrefix.host(d.ip()), 999, NODE1))
        .upsert(new Endpoint(c.ip() & 0xffff, c.ip(), c.hostIf(), c.identity(), true, false))
        .allow(new PolicyKey(c.ip(), Direction.INGRESS, a.identity(), 8080, Protocol.TCP))
        .build());
    try {
      long droppedBefore = dp2.dropped(c.ip(), DropReason.POLICY_INGRESS);
      await().atMost(Duration.ofSeconds(10)).untilAsserted(
          () -> assertThat(get(a, "tcp", ipOf(c), 8080)).isEqualTo("pod-c 10.1.1.5"));
      assertThat(get(d, "tcp", ipOf(c), 8080)).as("D (0x10102) is not allowed").isNull();
      assertThat(get(a, "udp", ipOf(c), 5353)).as("A is allowed TCP 8080 only").isNull();
      assertThat(dp2.dropped(c.ip(), DropReason.POLICY_INGRESS)).isGreaterThan(droppedBefore);
      assertThat(dp2.policyHits())
          .as("the allow entry counted A's new connection")
          .hasEntrySatisfying(new PolicyKey(c.ip(), Direction.INGRESS, a.identity(), 8080, Protocol.TCP),
              hits -> assertThat(hits).isPositive());
    } finally {
      dp2.apply(baseline(NODE2)
          .revoke(new PolicyKey(c.ip(), Direction.INGRESS, a.identity(), 8080, Protocol.TCP))
          .build());
    }
    assertThat(get(d, "tcp", ipOf(c), 8080)).as("enforcement off again").isEqualTo("pod-c 10.1.1.6");
  }

  @Test
  void trafficFromTheNodesOwnStackPassesIngressPolicyWithTheHostIdentity() throws Exception {
    // A route inside node 2's namespace lets its own stack reach pod C; to_container checks it.
    net.exec(node2, "ip", "route", "add", ipOf(c) + "/32", "dev", c.hostIf());
    try {
      dp2.apply(ChangeSet.builder()
          .upsert(new Endpoint(c.ip() & 0xffff, c.ip(), c.hostIf(), c.identity(), true, false))
          .allow(new PolicyKey(c.ip(), Direction.INGRESS, 1, 8080, Protocol.TCP))
          .build());
      await().atMost(Duration.ofSeconds(10)).untilAsserted(
          () -> assertThat(getFrom(node2, "tcp", ipOf(c), 8080)).isEqualTo("pod-c 198.18.0.2"));

      dp2.apply(ChangeSet.builder().revoke(new PolicyKey(c.ip(), Direction.INGRESS, 1, 8080, Protocol.TCP)).build());
      long before = dp2.dropped(c.ip(), DropReason.POLICY_INGRESS);
      assertThat(getFrom(node2, "tcp", ipOf(c), 8080)).isNull();
      assertThat(dp2.dropped(c.ip(), DropReason.POLICY_INGRESS)).isGreaterThan(before);
    } finally {
      dp2.apply(baseline(NODE2).build());
      net.exec(node2, "ip", "route", "del", ipOf(c) + "/32", "dev", c.hostIf());
    }
  }

  @Test
  void egressPolicyDropsAndCountsUnlistedDestinations() throws Exception {
    dp1.apply(ChangeSet.builder()
        .upsert(new Endpoint(d.ip() & 0xffff, d.ip(), d.hostIf(), d.identity(), false, true))
        .allow(new PolicyKey(d.ip(), Direction.EGRESS, b.identity(), 0, Protocol.TCP))
        .build());
    try {
      assertThat(get(d, "tcp", ipOf(b), 8080)).isEqualTo("pod-b 10.1.1.6");
      long before = dp1.dropped(d.ip(), DropReason.POLICY_EGRESS);
      assertThat(get(d, "tcp", ipOf(c), 8080)).isNull();
      assertThat(dp1.dropped(d.ip(), DropReason.POLICY_EGRESS)).isGreaterThan(before);
    } finally {
      dp1.apply(baseline(NODE1).revoke(new PolicyKey(d.ip(), Direction.EGRESS, b.identity(), 0, Protocol.TCP)).build());
    }
  }

  @Test
  void removingABackendStopsNewConnectionsToIt() throws Exception {
    L4Address frontend = new L4Address(Ipv4.parse("10.96.0.20"), 80, Protocol.TCP);
    L4Address toB = new L4Address(b.ip(), 8080, Protocol.TCP);
    L4Address toC = new L4Address(c.ip(), 8080, Protocol.TCP);
    dp1.apply(ChangeSet.builder().upsert(new Service(frontend, Service.Kind.CLUSTER_IP, 20, List.of(toB, toC), 0)).build());
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 30 && seen.size() < 2; i++) seen.add(get(a, "tcp", "10.96.0.20", 80));
    assertThat(seen).as("random selection reaches both backends").containsExactlyInAnyOrder("pod-b 10.1.1.5", "pod-c 10.1.1.5");

    dp1.apply(ChangeSet.builder().upsert(new Service(frontend, Service.Kind.CLUSTER_IP, 20, List.of(toB), 0)).build());
    for (int i = 0; i < 15; i++) {
      assertThat(get(a, "tcp", "10.96.0.20", 80)).isEqualTo("pod-b 10.1.1.5");
    }
  }

  @Test
  void sessionAffinityKeepsAClientOnOneBackend() throws Exception {
    L4Address frontend = new L4Address(Ipv4.parse("10.96.0.21"), 80, Protocol.TCP);
    dp1.apply(ChangeSet.builder().upsert(new Service(frontend, Service.Kind.CLUSTER_IP, 21,
        List.of(new L4Address(b.ip(), 8080, Protocol.TCP), new L4Address(c.ip(), 8080, Protocol.TCP)), 600)).build());
    String first = get(a, "tcp", "10.96.0.21", 80);
    assertThat(first).isIn("pod-b 10.1.1.5", "pod-c 10.1.1.5");
    for (int i = 0; i < 10; i++) assertThat(get(a, "tcp", "10.96.0.21", 80)).isEqualTo(first);
  }

  @Test
  void aServiceWithoutBackendsDropsAndCounts() throws Exception {
    dp1.apply(ChangeSet.builder().upsert(new Service(new L4Address(Ipv4.parse("10.96.0.30"), 80, Protocol.TCP),
        Service.Kind.CLUSTER_IP, 30, List.of(), 0)).build());
    long before = dp1.dropped(a.ip(), DropReason.NO_BACKEND);
    assertThat(get(a, "tcp", "10.96.0.30", 80)).isNull();
    assertThat(dp1.dropped(a.ip(), DropReason.NO_BACKEND)).isGreaterThan(before);
  }

  @Test
  void anEstablishedConnectionSurvivesAnAgentRestart() throws Exception {
    L4Address frontend = new L4Address(Ipv4.parse("10.96.0.40"), 80, Protocol.TCP);
    dp1.apply(ChangeSet.builder().upsert(new Service(frontend, Service.Kind.CLUSTER_IP, 40,
        List.of(new L4Address(b.ip(), 8080, Protocol.TCP)), 0)).build());
    Process session = net.start(a.ns(), "python3", "-u", script.toString(), "session", "10.96.0.40", "80");
    BufferedReader out = new BufferedReader(new InputStreamReader(session.getInputStream(), StandardCharsets.UTF_8));
    PrintWriter in = new PrintWriter(session.getOutputStream(), true, StandardCharsets.UTF_8);
    assertThat(out.readLine()).isEqualTo("pod-b 10.1.1.5");
    in.println("before");
    assertThat(out.readLine()).isEqualTo("before");

    var programmed1 = dp1.snapshot();
    var programmed2 = dp2.snapshot();
    dp1.close();
    dp2.close();
    in.println("while the agents are away");
    assertThat(out.readLine()).isEqualTo("while the agents are away");

    dp1 = BpfDatapath.open(config1);
    dp2 = BpfDatapath.open(config2);
    assertThat(dp1.snapshot()).isEqualTo(programmed1);
    assertThat(dp2.snapshot()).isEqualTo(programmed2);
    dp1.apply(baseline(NODE1).build()); // the restarted agent reconciles: same state, same flow
    in.println("after");
    assertThat(out.readLine()).isEqualTo("after");
    net.stop(session);
  }
}
