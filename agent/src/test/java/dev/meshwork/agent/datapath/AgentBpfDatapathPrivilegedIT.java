package dev.meshwork.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.AgentComponent;
import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.DaggerAgentComponent;
import dev.meshwork.agent.testsupport.AgentApiClient;
import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.bpf.BpfDatapath;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.TunnelEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import dev.meshwork.testing.process.Command;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent binary's wiring with {@code --datapath=bpf}: the node is a network namespace of the
 * test's own, its pins live on a private bpffs under /tmp, and a remote cluster's operator (a
 * SyncStore on a real etcd) announces a node. The agent must program that node's pod CIDR as a
 * tunnel entry in the kernel map, show it through the API, and leave it pinned when it stops.
 */
@Tag("privileged")
class AgentBpfDatapathPrivilegedIT {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final IpPrefix REMOTE_CIDR = IpPrefix.parse("10.2.1.0/24");
  static final int REMOTE_NODE_IP = Ipv4.parse("198.18.1.1");
  static final int OWN_NODE_IP = Ipv4.parse("198.18.0.1");

  @RegisterExtension static final EtcdExtension testEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  NetworkNamespaces namespaces;
  NetworkNamespace node;
  Path bpffs;
  final List<AutoCloseable> closeables = new ArrayList<>();
  Lifecycle lifecycle;

  @BeforeEach
  void setUp() {
    NetworkNamespaces.assumeRoot();
    namespaces = new NetworkNamespaces("agentbpf");
    node = namespaces.create("node1");
    bpffs = Path.of("/tmp", "mwt-bpffs-" + Integer.toHexString(ThreadLocalRandom.current().nextInt()));
    try {
      Files.createDirectories(bpffs);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    Command.run("mount", "-t", "bpf", "bpf", bpffs.toString()).orThrow();
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (lifecycle != null) lifecycle.stop();
      for (AutoCloseable c : closeables.reversed()) c.close();
    } finally {
      if (bpffs != null && Files.isDirectory(bpffs)) {
        // Unmounting the private bpffs releases every pinned map and program of the test.
        Command.run("umount", bpffs.toString()).orThrow();
        Files.deleteIfExists(bpffs);
      }
      if (namespaces != null) namespaces.close();
    }
  }

  AgentConfig config(Path localConfig, Path meshDir) {
    String[] args = {
      "--cluster-name=" + TEST,
      "--cluster-id=1",
      "--node-name=node-1",
      "--kvstore-config=" + localConfig,
      "--clustermesh-config-dir=" + meshDir,
      "--clustermesh-poll-interval=100ms",
      "--api-socket=" + tmp.resolve("agent.sock"),
      "--metrics-port=0",
      "--datapath=bpf",
      "--bpffs-root=" + bpffs.resolve("meshwork"),
      "--datapath-netns=" + node.path(),
      "--vxlan-device=mw_vxlan",
    };
    return AgentConfig.from(ConfigSource.of(args, Map.of()));
  }

  @Test
  void programsARemoteNodesTunnelIntoTheKernelMapAndARestartedAgentFindsItStillPinned() throws Exception {
    for (EtcdExtension etcd : List.of(testEtcd, sharedEtcd)) etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    Path meshDir = Files.createDirectories(tmp.resolve("clustermesh"));
    ClusterOperatorDouble test = new ClusterOperatorDouble(testEtcd, TEST, 1);
    ClusterOperatorDouble shared = new ClusterOperatorDouble(sharedEtcd, SHARED, 2);
    closeables.add(test);
    closeables.add(shared);
    Path localConfig = test.writeConfigFile(Files.createDirectories(tmp.resolve("local")));
    test.writeClusterConfig();
    test.node("node-1", "198.18.0.1", "10.1.0.0/24");
    test.synced();
    shared.writeClusterConfig();
    shared.node("shared-node-1", "198.18.1.1", REMOTE_CIDR.toString());
    shared.synced();
    shared.writeConfigFile(meshDir);

    AgentComponent agent = DaggerAgentComponent.factory().create(config(localConfig, meshDir));
    assertThat(agent.datapath()).isInstanceOf(BpfDatapath.class);
    BpfDatapath datapath = (BpfDatapath) agent.datapath();
    lifecycle = agent.lifecycle();
    lifecycle.start();
    assertThat(lifecycle.names()).contains("conntrack-gc");

    IpCacheEntry tunnel = new IpCacheEntry(REMOTE_CIDR, 2, REMOTE_NODE_IP);
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() ->
        assertThat(datapath.snapshot().ipcache()).containsEntry(REMOTE_CIDR, tunnel));
    DatapathSnapshot programmed = datapath.snapshot();
    assertThat(programmed.ipcache())
        .as("node IPs: host for this node, remote-node for the other")
        .containsEntry(IpPrefix.host(OWN_NODE_IP), new IpCacheEntry(IpPrefix.host(OWN_NODE_IP), 1, 0))
        .containsEntry(IpPrefix.host(REMOTE_NODE_IP), new IpCacheEntry(IpPrefix.host(REMOTE_NODE_IP), 6, 0))
        .as("this node's own pod CIDR is not tunnelled")
        .doesNotContainKey(IpPrefix.parse("10.1.0.0/24"));
    try (AgentApiClient client = new AgentApiClient(tmp.resolve("agent.sock"))) {
      assertThat(client.inspection().listTunnels(ListRequest.getDefaultInstance()).getTunnelsList())
          .extracting(TunnelEntry::getPrefix, TunnelEntry::getTunnelEndpoint, TunnelEntry::getCluster)
          .containsExactly(org.assertj.core.groups.Tuple.tuple("10.2.1.0/24", "198.18.1.1", SHARED));
    }
    assertThat(node.nsenterOrThrow("ip", "-d", "link", "show", "mw_vxlan").stdout())
        .as("the VXLAN device is in the node's namespace")
        .contains("vxlan");

    lifecycle.stop();
    lifecycle = null;

    // Closing keeps the pins: the restarted agent finds the tunnel in the kernel before it has
    // listed any cluster, so traffic never stopped; then it keeps reconciling the same maps.
    AgentComponent restarted = DaggerAgentComponent.factory().create(config(localConfig, meshDir));
    BpfDatapath reopenedByAgent = (BpfDatapath) restarted.datapath();
    assertThat(reopenedByAgent.snapshot().ipcache()).isEqualTo(programmed.ipcache());
    lifecycle = restarted.lifecycle();
    lifecycle.start();
    shared.deleteNode("shared-node-1");
    await().atMost(Duration.ofSeconds(20)).ignoreExceptions().untilAsserted(() ->
        assertThat(reopenedByAgent.snapshot().ipcache())
            .doesNotContainKeys(REMOTE_CIDR, IpPrefix.host(REMOTE_NODE_IP))
            .containsKey(IpPrefix.host(OWN_NODE_IP)));
    lifecycle.stop();
    lifecycle = null;

    BpfDatapath reopened = BpfDatapath.open(config(localConfig, meshDir).bpf().datapathConfig("node-1"));
    try {
      assertThat(reopened.snapshot().ipcache()).doesNotContainKey(REMOTE_CIDR);
    } finally {
      reopened.destroy();
    }
  }
}
