package dev.meshwork.agent.clustermesh;

import static dev.meshwork.agent.testsupport.ClusterOperatorDouble.backend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.agent.testsupport.TestAgent;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstoresync.mirror.CacheKeys;
import dev.meshwork.kvstoresync.mirror.ClusterMeshMirror;
import dev.meshwork.kvstoresync.mirror.MirrorSettings;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cache mode ({@code --clustermesh-source=cache}) against real etcds and the real kvstore-sync
 * mirror: k8s-test-cluster's agents read k8s-shared-cluster and k8s-third-cluster either from
 * their etcds (direct) or from the mirror in the local etcd (cache), and program the same datapath.
 */
class ClusterMeshCacheModeIT {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final String THIRD = "k8s-third-cluster";
  static final L4Address CLUSTER_IP = new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP);
  static final ListRequest ALL = ListRequest.getDefaultInstance();

  @RegisterExtension static final EtcdExtension testEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension thirdEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Path agentDir;
  Path mirrorDir;
  Path localConfig;
  ClusterOperatorDouble test;
  ClusterOperatorDouble shared;
  ClusterOperatorDouble third;
  ClusterMeshMirror mirror;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void awaitIgnoresNotYetThere() {
    Awaitility.ignoreExceptionsByDefault();
  }

  @AfterAll
  static void resetAwaitility() {
    Awaitility.reset();
  }

  @BeforeEach
  void setUp() throws Exception {
    for (EtcdExtension etcd : List.of(testEtcd, sharedEtcd, thirdEtcd)) {
      if (!etcd.isRunning()) etcd.start();
      etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    }
    agentDir = Files.createDirectories(tmp.resolve("agent-clustermesh"));
    mirrorDir = Files.createDirectories(tmp.resolve("kvstore-sync-clustermesh"));
    test = operator(testEtcd, TEST, 1);
    shared = operator(sharedEtcd, SHARED, 2);
    third = operator(thirdEtcd, THIRD, 3);
    localConfig = test.writeConfigFile(Files.createDirectories(tmp.resolve("local")));

    test.writeClusterConfig();
    test.node("test-node-1", "198.18.0.1", "10.1.0.0/24");
    test.node("test-node-2", "198.18.0.2", "10.1.1.0/24");
    test.service("testing", "backend-svc", "172.20.17.66", true, Affinity.AFFINITY_NONE);
    test.synced();
    shared.writeClusterConfig();
    shared.node("shared-node-1", "198.18.1.1", "10.2.1.0/24");
    shared.node("shared-node-2", "198.18.1.2", "10.2.2.0/24");
    shared.identity(300, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=testing");
    shared.pod("10.2.1.17", 300, "198.18.1.1");
    shared.pod("10.2.2.9", 300, "198.18.1.2");
    shared.service("testing", "backend-svc", "172.21.8.4", true, Affinity.AFFINITY_NONE,
        backend("10.2.1.17", true), backend("10.2.2.9", true));
    shared.synced();
    third.writeClusterConfig();
    third.node("third-node-1", "198.18.2.1", "10.3.1.0/24");
    third.identity(300, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=testing");
    third.pod("10.3.1.4", 300, "198.18.2.1");
    third.service("testing", "backend-svc", "172.22.0.7", true, Affinity.AFFINITY_NONE, backend("10.3.1.4", true));
    third.synced();
    for (ClusterOperatorDouble remote : List.of(shared, third)) {
      remote.writeConfigFile(agentDir);
      remote.writeConfigFile(mirrorDir);
    }
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  ClusterOperatorDouble operator(EtcdExtension etcd, String cluster, int id) {
    ClusterOperatorDouble op = new ClusterOperatorDouble(etcd, cluster, id);
    closeables.add(op);
    return op;
  }

  /** meshwork-kvstore-sync of k8s-test-cluster, mirroring the files of {@code mirrorDir}. */
  ClusterMeshMirror startMirror(Duration drainGrace) {
    EtcdConnection local = EtcdConnection.of("local etcd of kvstore-sync",
        EtcdClients.plain(List.of(URI.create(testEtcd.endpoint()))));
    closeables.add(local);
    MirrorSettings settings = new MirrorSettings(ClusterName.of(TEST), ClusterId.of(1), drainGrace, Duration.ofMillis(200),
        new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0), Duration.ofMillis(300), 10_000,
        new SimpleMeterRegistry(), InstantSource.system());
    ClusterMeshMirror m = new ClusterMeshMirror(mirrorDir, local, settings);
    closeables.add(m);
    m.start();
    return m;
  }

  TestAgent agent(String name, AgentConfig.ClusterMeshSource source) {
    AgentConfig config = TestAgent.config(TEST, 1, "test-node-1", localConfig, agentDir, tmp.resolve(name + ".sock"),
            Optional.empty(), Optional.empty())
        .withServiceSources(AgentConfig.LocalServices.DISABLED, source);
    TestAgent agent = new TestAgent(config, new RecordingDatapath(), Optional.empty());
    closeables.add(agent);
    return agent;
  }

  /** What a datapath holds, without the per-agent reverse-NAT ids: frontend → backends, and the ipcache. */
  record ProgrammedState(Map<L4Address, List<L4Address>> services, Map<IpPrefix, IpCacheEntry> ipcache) {
    static ProgrammedState of(DatapathSnapshot snapshot) {
      Map<L4Address, List<L4Address>> services = new TreeMap<>();
      snapshot.services().forEach((frontend, s) -> services.put(frontend, s.backends()));
      return new ProgrammedState(services, new TreeMap<>(snapshot.ipcache()));
    }
  }

  static ProgrammedState state(TestAgent agent) throws Exception {
    return ProgrammedState.of(agent.datapath.snapshot());
  }

  static List<String> backends(TestAgent agent) throws Exception {
    var s = agent.datapath.snapshot().services().get(CLUSTER_IP);
    return s == null ? List.of() : s.backends().stream().map(L4Address::toString).toList();
  }

  static RemoteClusterStatus remote(TestAgent agent, String name) {
    return agent.api().getClusterMeshStatus(ALL).getRemotesList().stream()
        .filter(r -> r.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void directModeAndCacheModeProgramTheSameDatapathForTheSameMesh() throws Exception {
    mirror = startMirror(Duration.ofMinutes(3));
    TestAgent direct = agent("direct", AgentConfig.ClusterMeshSource.DIRECT);
    TestAgent cache = agent("cache", AgentConfig.ClusterMeshSource.CACHE);

    List<String> all = List.of("10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP", "10.3.1.4:8080/TCP");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(backends(direct)).containsExactlyElementsOf(all);
      assertThat(backends(cache)).containsExactlyElementsOf(all);
      assertThat(state(cache)).isEqualTo(state(direct));
      for (String name : List.of(SHARED, THIRD)) {
        assertThat(remote(cache, name).getReady()).as("%s ready via the cache", name).isTrue();
        assertThat(remote(direct, name).getReady()).as("%s ready via its etcd", name).isTrue();
      }
    });
    ProgrammedState converged = state(cache);
    assertThat(converged.ipcache()).containsKeys(
        IpPrefix.parse("10.2.1.0/24"), IpPrefix.parse("10.3.1.0/24"), IpPrefix.parse("10.2.2.9/32"),
        IpPrefix.parse("10.3.1.4/32"), IpPrefix.parse("198.18.2.1/32"));

    ClusterMeshStatus status = cache.api().getClusterMeshStatus(ALL);
    assertThat(status.getSource()).isEqualTo("cache");
    assertThat(direct.api().getClusterMeshStatus(ALL).getSource()).isEqualTo("direct");
    for (String name : List.of(SHARED, THIRD)) {
      RemoteClusterStatus viaCache = remote(cache, name);
      RemoteClusterStatus viaEtcd = remote(direct, name);
      assertThat(viaCache.getReady()).isTrue();
      assertThat(viaCache.getSyncedKindsList()).containsExactlyInAnyOrder("nodes", "services", "identities", "ipcache");
      assertThat(List.of(viaCache.getId(), viaCache.getNodes(), viaCache.getEndpoints(), viaCache.getIdentities(),
              viaCache.getServices()))
          .isEqualTo(List.of(viaEtcd.getId(), viaEtcd.getNodes(), viaEtcd.getEndpoints(), viaEtcd.getIdentities(),
              viaEtcd.getServices()));
    }
    assertThat(cache.metrics.registry().get("meshwork_agent_clustermesh_source").tag("source", "cache").gauge().value())
        .isEqualTo(1.0);

    // Churn in both remotes: both agents end in the same new state.
    shared.service("testing", "backend-svc", "172.21.8.4", true, Affinity.AFFINITY_NONE, backend("10.2.2.9", true));
    shared.deletePod("10.2.1.17");
    third.node("third-node-2", "198.18.2.2", "10.3.2.0/24");
    third.pod("10.3.2.8", 300, "198.18.2.2");
    third.service("testing", "backend-svc", "172.22.0.7", true, Affinity.AFFINITY_NONE,
        backend("10.3.1.4", true), backend("10.3.2.8", true));
    List<String> after = List.of("10.2.2.9:8080/TCP", "10.3.1.4:8080/TCP", "10.3.2.8:8080/TCP");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(backends(direct)).containsExactlyElementsOf(after);
      assertThat(backends(cache)).containsExactlyElementsOf(after);
      assertThat(state(cache).ipcache()).containsKey(IpPrefix.parse("10.3.2.0/24")).doesNotContainKey(IpPrefix.parse("10.2.1.17/32"));
      assertThat(state(cache)).isEqualTo(state(direct));
    });
  }

  @Test
  void cacheModeStatusShowsTheMirrorLagAndARemoteKvstoreSyncDoesNotMirror() throws Exception {
    mirror = startMirror(Duration.ofMinutes(3));
    // Configured for the agent but not for kvstore-sync (e.g. refused there): no mirror to read.
    Files.writeString(agentDir.resolve("k8s-fourth-cluster"), "endpoints:\n  - " + thirdEtcd.endpoint() + "\n");
    TestAgent cache = agent("cache", AgentConfig.ClusterMeshSource.CACHE);
    await().atMost(Duration.ofSeconds(30)).until(() -> remote(cache, SHARED).getReady());
    assertThat(remote(cache, SHARED).getMirrorLagKnown()).isFalse();

    // The operator's heartbeat goes remote etcd → kvstore-sync → local etcd → agent.
    for (int i = 0; i < 2; i++) {
      sharedEtcd.put(KeyLayout.heartbeatKey(SHARED),
          Codecs.HEARTBEAT.encode(Heartbeat.newBuilder().setTimestampMillis(System.currentTimeMillis()).setWriter("op").build()));
      Thread.sleep(300);
    }
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      RemoteClusterStatus status = remote(cache, SHARED);
      assertThat(status.getMirrorLagKnown()).isTrue();
      assertThat(status.getMirrorLagMillis()).isBetween(0L, 10_000L);
      assertThat(status.getStatus()).isEqualTo("ready");
    });
    assertThat(cache.metrics.registry().get("meshwork_agent_clustermesh_mirror_lag_seconds").tag("cluster", SHARED)
        .gauge().value()).isBetween(0.0, 10.0);
    RemoteClusterStatus fourth = remote(cache, "k8s-fourth-cluster");
    assertThat(fourth.getReady()).isFalse();
    assertThat(fourth.getStatus()).startsWith(
        "waiting for cluster-config meshwork/v1/cache/k8s-fourth-cluster/cluster-config/k8s-fourth-cluster");
  }

  @Test
  void cacheModeKeepsStateWhileSourcesAreDownAndDrainsWhenTheMirrorDrains() throws Exception {
    mirror = startMirror(Duration.ofSeconds(1));
    TestAgent cache = agent("cache", AgentConfig.ClusterMeshSource.CACHE);
    List<String> all = List.of("10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP", "10.3.1.4:8080/TCP");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(backends(cache)).containsExactlyElementsOf(all));

    // A remote etcd down: the mirror keeps its copy, the agent keeps everything.
    sharedEtcd.stop();
    Thread.sleep(2_000);
    assertThat(backends(cache)).containsExactlyElementsOf(all);

    // The local etcd (the cache) down: disconnected, state kept; back: ready again, nothing lost.
    testEtcd.stop();
    await().atMost(Duration.ofSeconds(30)).until(() -> !remote(cache, THIRD).getConnected());
    assertThat(remote(cache, THIRD).getStatus()).contains("keeping its state");
    assertThat(backends(cache)).containsExactlyElementsOf(all);
    testEtcd.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> remote(cache, THIRD).getReady());
    assertThat(backends(cache)).containsExactlyElementsOf(all);

    // kvstore-sync no longer mirrors the shared cluster: once it drains the mirror, so does the agent.
    Files.delete(mirrorDir.resolve(SHARED));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(backends(cache)).containsExactly("10.3.1.4:8080/TCP"));
    assertThat(testEtcd.etcdctl("get", "--prefix", "--keys-only", CacheKeys.mirrorPrefix(SHARED)).orThrow().stdout().trim()).isEmpty();
    assertThat(state(cache).ipcache()).doesNotContainKey(IpPrefix.parse("10.2.1.0/24"));
  }
}
