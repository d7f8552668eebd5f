package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Garbage and another cluster's keys are planted in k8s-shared-cluster's etcd. The readers (the
 * agent in direct mode; kvstore-sync, and through it a cache-mode agent) skip and count each of
 * them, keep the last good value of a key that turned bad, and go on applying good changes.
 */
class CorruptRemoteDataIT {
  static final String SHARED = "k8s-shared-cluster";
  static final KeyLayout STATE = KeyLayout.state();
  static final int PLANTED = 5;

  @RegisterExtension static final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Mesh mesh;
  RemoteCluster shared;

  @BeforeEach
  void setUp() throws Exception {
    mesh = new Mesh(tmp, localEtcd);
    shared = mesh.remote(sharedEtcd, SHARED, 2, 2, 3);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  /** Five bad keys: garbage values (one over a good key), another cluster's node, wrong cluster field, identity out of range. */
  void plantBadData() {
    byte[] garbage = "\u00ff\u00fe not a protobuf".getBytes(StandardCharsets.ISO_8859_1);
    sharedEtcd.put(STATE.nodeKey(SHARED, "garbage-node"), garbage);
    // A good key turns bad: its last good value must stay.
    sharedEtcd.put(STATE.ipcacheKey(SHARED, shared.podIp(1, 1)), garbage);
    sharedEtcd.put(STATE.nodeKey("k8s-third-cluster", "third-node-1"), Codecs.NODE.encode(Node.newBuilder()
        .setCluster("k8s-third-cluster").setClusterId(3).setName("third-node-1")
        .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress("198.18.3.1"))
        .addPodCidrs("10.3.1.0/24").build()));
    sharedEtcd.put(STATE.serviceKey(SHARED, "testing", "intruder-svc"), Codecs.SERVICE.encode(ClusterService.newBuilder()
        .setCluster("k8s-third-cluster").setClusterId(3).setNamespace("testing").setName("intruder-svc").build()));
    sharedEtcd.put(STATE.ipcacheKey(SHARED, "10.2.9.9"), Codecs.IPCACHE.encode(IPCacheEntry.newBuilder()
        .setIp("10.2.9.9").setIdentity(5 << 16 | 300).setHostIp(shared.nodeIp(1)).setCluster(SHARED)
        .setNamespace("testing").setPodName("pod-10.2.9.9").build()));
  }

  void assertUnaffectedAndFollowingGoodChanges(InProcessAgent agent, DatapathSnapshot before) {
    assertThat(agent.datapath.snapshot()).as("the datapath after the bad keys").isEqualTo(before);
    assertThat(agent.datapath.removals()).isEmpty();
    // A good change after the bad keys still arrives.
    shared.addBackend(shared.podIp(2, 104), 2);
    shared.publishService();
    SortedSet<String> expected = Mesh.expected(shared);
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(agent.datapath.backends(Mesh.FRONTEND)).isEqualTo(expected));
    assertThat(agent.datapath.snapshot().ipcache().keySet().stream().map(Object::toString))
        .contains(shared.podIp(1, 1) + "/32")
        .doesNotContain("10.2.9.9/32", "10.3.1.0/24", "198.18.3.1/32");
    assertThat(agent.datapath.removals()).isEmpty();
  }

  /** Waits for the whole remote state (backends, pods, node CIDRs and IPs) in the datapath. */
  DatapathSnapshot converged(InProcessAgent agent) {
    SortedSet<String> expected = Mesh.expected(shared);
    java.util.List<String> entries = shared.programmedEntries(Mesh.FRONTEND).stream()
        .filter(e -> e.startsWith("ipcache ")).map(e -> e.substring("ipcache ".length())).toList();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
      assertThat(agent.datapath.backends(Mesh.FRONTEND)).isEqualTo(expected);
      assertThat(agent.datapath.snapshot().ipcache().keySet().stream().map(Object::toString)).containsAll(entries);
    });
    agent.datapath.clearLog();
    return agent.datapath.snapshot();
  }

  @Test
  void agentSkipsAndCountsCorruptAndForeignKeysAndNothingElseChanges() throws Exception {
    InProcessAgent agent = mesh.agent(ClusterMesh.Source.DIRECT);
    DatapathSnapshot before = converged(agent);
    double rejectedBefore = agent.rejectedKeys(SHARED);

    plantBadData();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> agent.rejectedKeys(SHARED) - rejectedBefore >= PLANTED);

    assertUnaffectedAndFollowingGoodChanges(agent, before);
    Figures.record("CorruptRemoteDataIT.agent", "bad keys planted / counted in meshwork_agent_clustermesh_rejected_keys_total",
        PLANTED + " / " + (long) (agent.rejectedKeys(SHARED) - rejectedBefore));
  }

  @Test
  void kvstoreSyncSkipsAndCountsThemSoACacheModeAgentNeverSeesThem() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    mesh.mirror(registry);
    InProcessAgent agent = mesh.agent(ClusterMesh.Source.CACHE);
    DatapathSnapshot before = converged(agent);

    plantBadData();
    // kvstore-sync watches the whole kind, like the agent in direct mode: the node planted in
    // k8s-third-cluster's folder is read, refused and counted too.
    await().atMost(Duration.ofSeconds(30)).until(() -> skipped(registry) >= PLANTED);

    assertUnaffectedAndFollowingGoodChanges(agent, before);
    assertThat(localEtcd.etcdctl("get", "--prefix", "--keys-only", KeyLayout.cache(SHARED).prefix(
        dev.meshwork.kvstore.key.Kind.NODES, "k8s-third-cluster")).stdout().trim()).as("another cluster's folder in the cache").isEmpty();
    assertThat(agent.rejectedKeys(SHARED)).as("nothing bad reached the cache").isZero();
    Figures.record("CorruptRemoteDataIT.kvstoreSync", "bad keys planted / counted in meshwork_kvstoresync_skipped_total",
        PLANTED + " / " + (long) skipped(registry));
  }

  static double skipped(SimpleMeterRegistry registry) {
    return registry.find("meshwork.kvstoresync.skipped").tag("remote", SHARED).functionCounters().stream()
        .mapToDouble(FunctionCounter::count).sum();
  }
}
