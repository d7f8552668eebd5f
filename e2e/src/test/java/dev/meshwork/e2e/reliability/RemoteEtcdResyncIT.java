package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.Locale;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import org.slf4j.LoggerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The remote etcd's history stops matching what the agent saw: its revision was compacted away,
 * its data was lost, or another etcd (another cluster id) answers at its address. Each time the
 * agent relists the remote and ends with exactly its current state, and the datapath's change log
 * shows no removal of anything the remote still exports (no wrong delete).
 */
class RemoteEtcdResyncIT {
  static final String SHARED = "k8s-shared-cluster";

  @RegisterExtension static final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Mesh mesh;
  RemoteCluster shared;

  @BeforeEach
  void setUp() throws Exception {
    mesh = new Mesh(tmp, localEtcd);
    shared = mesh.remote(sharedEtcd, SHARED, 2, 3, 4);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  InProcessAgent convergedAgent() throws Exception {
    InProcessAgent agent = mesh.agent(ClusterMesh.Source.DIRECT);
    awaitConverged(agent);
    agent.datapath.clearLog();
    return agent;
  }

  void awaitConverged(InProcessAgent agent) {
    awaitConverged(agent, List.of());
  }

  /** Exactly the remote's backends on the frontend, and exactly its pods (plus {@code morePods}) as /32 entries. */
  void awaitConverged(InProcessAgent agent, List<String> morePods) {
    SortedSet<String> expected = Mesh.expected(shared);
    java.util.Set<String> pods = new java.util.TreeSet<>();
    shared.podIps().forEach(ip -> pods.add(ip + "/32"));
    morePods.forEach(ip -> pods.add(ip + "/32"));
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20)).untilAsserted(() -> {
      assertThat(agent.datapath.backends(Mesh.FRONTEND)).isEqualTo(expected);
      assertThat(agent.datapath.snapshot().ipcache().keySet().stream().map(Object::toString)
          .filter(p -> p.startsWith("10.2.") && p.endsWith("/32")).collect(java.util.stream.Collectors.toSet()))
          .as("the remote's pods in the ipcache").isEqualTo(pods);
    });
  }

  /** The operator replaces two backends (one pod deleted, one created on another node). */
  void churn() {
    shared.removeBackend(shared.podIp(1, 1));
    shared.addBackend(shared.podIp(3, 103), 3);
    shared.publishService();
  }

  void assertNoWrongDeletes(InProcessAgent agent) {
    Set<String> stillExported = shared.programmedEntries(Mesh.FRONTEND);
    assertThat(agent.datapath.removals(stillExported::contains)).as("removals of entries the remote still exports").isEmpty();
    assertThat(agent.datapath.removals(r -> r.startsWith("backend")))
        .as("the only backend removed is the one the operator deleted")
        .containsExactly("backend " + shared.podIp(1, 1) + ":8080/TCP of " + Mesh.FRONTEND);
  }

  @Test
  void relistsWhenItsWatchFellBehindARevisionThatWasCompactedAway() throws Exception {
    TcpProxy proxy = mesh.track(new TcpProxy(sharedEtcd.clientPort()));
    shared.writeConfigFile(mesh.agentDir, SHARED, proxy.endpoint());
    InProcessAgent agent = convergedAgent();
    ListAppender<ILoggingEvent> watchLog = new ListAppender<>();
    watchLog.start();
    Logger watchStoreLogger = (Logger) LoggerFactory.getLogger(WatchStore.class);
    watchStoreLogger.addAppender(watchLog);
    try {
      // The agent's connection stays open but nothing reaches it: its watch falls behind while
      // FLOOD new pods (about 2 KiB each) fill the buffers and flow-control windows, and the
      // operator replaces two backends; then the etcd compacts past all of it.
      proxy.stall();
      List<String> flood = flood(FLOOD);
      churn();
      shared.awaitWritten();
      long compacted = sharedEtcd.compact();
      long resumedAt = System.nanoTime();
      proxy.resume();

      awaitConverged(agent, flood);
      Duration resync = Duration.ofNanos(agent.datapath.lastAppliedNanos() - resumedAt);
      assertThat(watchLog.list.stream().map(ILoggingEvent::getFormattedMessage))
          .as("the agent's watch was cancelled for a compacted revision (compacted at %d)", compacted)
          .anyMatch(m -> m.contains(SHARED) && m.contains("relisting") && m.toLowerCase(Locale.ROOT).contains("compact"));
      assertNoWrongDeletes(agent);
      Set<String> floodEntries = new java.util.HashSet<>();
      flood.forEach(ip -> floodEntries.add("ipcache " + ip + "/32"));
      assertThat(agent.datapath.removals(floodEntries::contains)).as("removals of the new pods").isEmpty();
      Figures.record("RemoteEtcdResyncIT.compaction", "watch resumed -> compacted, relisted, datapath resynced ("
          + FLOOD + " new pods + 2 replaced backends)", resync);
      Figures.record("RemoteEtcdResyncIT.compaction", "wrong deletes", "0 of " + agent.datapath.removals().size() + " removals");
    } finally {
      watchStoreLogger.detachAppender(watchLog);
    }
  }

  static final int FLOOD = 8000;

  /** {@code count} valid pods of the remote written straight into its etcd; returns their IPs. */
  List<String> flood(int count) throws Exception {
    String padding = "x".repeat(2000);
    List<String> ips = new java.util.ArrayList<>();
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(64);
    try (Client client = EtcdClients.plain(List.of(URI.create(sharedEtcd.endpoint())))) {
      for (int k = 0; k < count; k++) {
        String ip = "10.2." + (50 + k / 250) + "." + (1 + k % 250);
        ips.add(ip);
        byte[] value = Codecs.IPCACHE.encode(IPCacheEntry.newBuilder().setIp(ip).setIdentity(2 << 16 | 300)
            .setHostIp(shared.nodeIp(1)).setCluster(SHARED).setNamespace("testing").setPodName("pod-" + padding).build());
        inFlight.acquire();
        client.getKVClient().put(ByteSequence.from(KeyLayout.state().ipcacheKey(SHARED, ip), StandardCharsets.UTF_8),
            ByteSequence.from(value)).whenComplete((r, e) -> inFlight.release());
      }
      inFlight.acquire(64);
    }
    return ips;
  }

  @Test
  void resyncsWhenTheEtcdLostItsDataAndTheOperatorRewritesIt() throws Exception {
    InProcessAgent agent = convergedAgent();
    long clusterId = sharedEtcd.clusterId();

    long wipedAt = System.nanoTime();
    sharedEtcd.wipe();
    assertThat(sharedEtcd.clusterId()).isNotEqualTo(clusterId);
    // The operator's writer finds its keys gone and rewrites them (data-loss check, 1 s here);
    // the cluster-config is republished as the operator's ClusterConfigPublisher does.
    shared.writeClusterConfig();
    churn();

    awaitConverged(agent);
    Duration resync = Duration.ofNanos(agent.datapath.lastAppliedNanos() - wipedAt);
    assertNoWrongDeletes(agent);
    Figures.record("RemoteEtcdResyncIT.wipe", "etcd wiped -> datapath resynced (includes the 1 s data-loss check)", resync);
    Figures.record("RemoteEtcdResyncIT.wipe", "wrong deletes", "0 of " + agent.datapath.removals().size() + " removals");
  }

  @Test
  void resyncsWhenANewEtcdWithAnotherClusterIdAnswersAtTheSameAddress() throws Exception {
    InProcessAgent agent = convergedAgent();
    long clusterId = sharedEtcd.clusterId();

    // The old etcd and its operator are gone; a new etcd (empty, new cluster id) takes the same
    // address and a new operator writes the cluster's current state into it.
    shared.close();
    long replacedAt = System.nanoTime();
    sharedEtcd.wipe();
    assertThat(sharedEtcd.clusterId()).isNotEqualTo(clusterId);
    shared.rewriteAll();
    churn();

    awaitConverged(agent);
    Duration resync = Duration.ofNanos(agent.datapath.lastAppliedNanos() - replacedAt);
    assertNoWrongDeletes(agent);
    Figures.record("RemoteEtcdResyncIT.newClusterId", "new etcd up -> datapath resynced", resync);
    Figures.record("RemoteEtcdResyncIT.newClusterId", "wrong deletes", "0 of " + agent.datapath.removals().size() + " removals");
  }
}
