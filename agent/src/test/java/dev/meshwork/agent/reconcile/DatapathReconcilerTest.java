package dev.meshwork.agent.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeRecord;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.service.Affinity;
import dev.meshwork.agent.service.BackendRecord;
import dev.meshwork.agent.service.ClusterServiceRecord;
import dev.meshwork.agent.service.FrontendSpec;
import dev.meshwork.agent.service.ServicePortSpec;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DatapathReconcilerTest {
  static final String LOCAL = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final L4Address CLUSTER_IP = new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP);

  final RecordingDatapath datapath = new RecordingDatapath();
  final NodeTable nodes = new NodeTable(LOCAL);
  final IpCacheTable ipcache = new IpCacheTable(LOCAL);
  final ServiceTable services = new ServiceTable(LOCAL);
  DatapathReconciler reconciler;

  DatapathReconciler start() throws Exception {
    reconciler = new DatapathReconciler(datapath, nodes, ipcache, services, "node-1", new SimpleMeterRegistry());
    reconciler.start();
    return reconciler;
  }

  void settle() throws InterruptedException {
    assertThat(reconciler.awaitIdle(Duration.ofSeconds(10))).as("reconciler idle").isTrue();
  }

  @AfterEach
  void stop() {
    if (reconciler != null) reconciler.stop();
  }

  static ClusterServiceRecord svc(String cluster, String frontendIp, String... readyBackends) {
    return new ClusterServiceRecord(cluster, "testing", "backend-svc", true, Affinity.NONE, 0,
        frontendIp == null ? List.of() : List.of(new FrontendSpec(Ipv4.parse(frontendIp), Service.Kind.CLUSTER_IP)),
        List.of(new ServicePortSpec("", 80, Protocol.TCP, 0)),
        java.util.Arrays.stream(readyBackends)
            .map(ip -> new BackendRecord(Ipv4.parse(ip), true, true, false, new int[] {8080}))
            .toList());
  }

  @Test
  void remoteNodePodCidrBecomesATunnelEntryAndOwnNodeCidrDoesNot() throws Exception {
    start();
    nodes.upsert(new NodeRecord(LOCAL, "node-1", Ipv4.parse("198.18.0.1"), List.of(IpPrefix.parse("10.1.0.0/24"))));
    nodes.upsert(new NodeRecord(LOCAL, "node-2", Ipv4.parse("198.18.0.2"), List.of(IpPrefix.parse("10.1.1.0/24"))));
    nodes.upsert(new NodeRecord(SHARED, "node-1", Ipv4.parse("198.18.1.1"), List.of(IpPrefix.parse("10.2.0.0/24"))));
    settle();

    assertThat(cidrEntries()).containsOnly(
        java.util.Map.entry(IpPrefix.parse("10.1.1.0/24"), new IpCacheEntry(IpPrefix.parse("10.1.1.0/24"), 2, Ipv4.parse("198.18.0.2"))),
        java.util.Map.entry(IpPrefix.parse("10.2.0.0/24"), new IpCacheEntry(IpPrefix.parse("10.2.0.0/24"), 2, Ipv4.parse("198.18.1.1"))));

    nodes.delete(SHARED, "node-1");
    settle();
    assertThat(cidrEntries()).containsOnlyKeys(IpPrefix.parse("10.1.1.0/24"));
  }

  /** The ipcache without host (/32) entries: pod CIDRs, i.e. the tunnel map. */
  java.util.Map<IpPrefix, IpCacheEntry> cidrEntries() throws Exception {
    java.util.Map<IpPrefix, IpCacheEntry> cidrs = new java.util.HashMap<>(datapath.snapshot().ipcache());
    cidrs.keySet().removeIf(p -> p.length() == 32);
    return cidrs;
  }

  static IpCacheEntry host(String ip, int identity) {
    return new IpCacheEntry(IpPrefix.parse(ip + "/32"), identity, 0);
  }

  @Test
  void nodeIpsCarryTheHostIdentityForThisNodeAndRemoteNodeForEveryOther() throws Exception {
    start();
    nodes.upsert(new NodeRecord(LOCAL, "node-1", Ipv4.parse("198.18.0.1"), List.of(IpPrefix.parse("10.1.0.0/24"))));
    nodes.upsert(new NodeRecord(LOCAL, "node-2", Ipv4.parse("198.18.0.2"), List.of(IpPrefix.parse("10.1.1.0/24"))));
    nodes.upsert(new NodeRecord(SHARED, "node-1", Ipv4.parse("198.18.1.1"), List.of(IpPrefix.parse("10.2.0.0/24"))));
    settle();

    // Node IPs are on the underlay: never tunnelled.
    assertThat(datapath.snapshot().ipcache()).contains(
        java.util.Map.entry(IpPrefix.parse("198.18.0.1/32"), host("198.18.0.1", DatapathReconciler.HOST)),
        java.util.Map.entry(IpPrefix.parse("198.18.0.2/32"), host("198.18.0.2", DatapathReconciler.REMOTE_NODE)),
        java.util.Map.entry(IpPrefix.parse("198.18.1.1/32"), host("198.18.1.1", DatapathReconciler.REMOTE_NODE)));

    nodes.upsert(new NodeRecord(SHARED, "node-1", Ipv4.parse("198.18.1.9"), List.of(IpPrefix.parse("10.2.0.0/24"))));
    settle();
    assertThat(datapath.snapshot().ipcache())
        .doesNotContainKey(IpPrefix.parse("198.18.1.1/32"))
        .containsEntry(IpPrefix.parse("198.18.1.9/32"), host("198.18.1.9", DatapathReconciler.REMOTE_NODE));

    nodes.delete(SHARED, "node-1");
    settle();
    assertThat(datapath.snapshot().ipcache()).doesNotContainKey(IpPrefix.parse("198.18.1.9/32"));
  }

  @Test
  void aHostNetworkPodOnANodeIpKeepsTheNodesIdentity() throws Exception {
    start();
    nodes.upsert(new NodeRecord(SHARED, "node-1", Ipv4.parse("198.18.1.1"), List.of()));
    ipcache.upsert(SHARED, Ipv4.parse("198.18.1.1"), 131328, Ipv4.parse("198.18.1.1"));
    settle();
    assertThat(datapath.snapshot().ipcache().get(IpPrefix.parse("198.18.1.1/32")))
        .isEqualTo(host("198.18.1.1", DatapathReconciler.REMOTE_NODE));

    nodes.delete(SHARED, "node-1");
    settle();
    // Without the node, the pod entry is what remains.
    assertThat(datapath.snapshot().ipcache().get(IpPrefix.parse("198.18.1.1/32")))
        .isEqualTo(new IpCacheEntry(IpPrefix.parse("198.18.1.1/32"), 131328, Ipv4.parse("198.18.1.1")));
  }

  @Test
  void podsOnThisNodeAreNotTunnelledAndOthersAre() throws Exception {
    nodes.upsert(new NodeRecord(LOCAL, "node-1", Ipv4.parse("198.18.0.1"), List.of()));
    start();
    ipcache.upsert(LOCAL, Ipv4.parse("10.1.0.5"), 65792, Ipv4.parse("198.18.0.1"));
    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.5"), 131328, Ipv4.parse("198.18.1.1"));
    settle();
    assertThat(datapath.snapshot().ipcache().get(IpPrefix.parse("10.1.0.5/32")).tunnelEndpoint()).isZero();
    assertThat(datapath.snapshot().ipcache().get(IpPrefix.parse("10.2.0.5/32")))
        .isEqualTo(new IpCacheEntry(IpPrefix.parse("10.2.0.5/32"), 131328, Ipv4.parse("198.18.1.1")));
  }

  @Test
  void appliesOnlyDifferences() throws Exception {
    start();
    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.5"), 131328, Ipv4.parse("198.18.1.1"));
    settle();
    long changes = datapath.fake.changesApplied();

    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.5"), 131328, Ipv4.parse("198.18.1.1"));
    services.upsert(svc(SHARED, "172.21.0.9", "10.2.0.5")); // a remote service alone programs nothing
    reconciler.resyncAll();
    settle();

    assertThat(datapath.fake.changesApplied()).isEqualTo(changes);
  }

  @Test
  void coalescesChangesThatArriveWhileABatchIsBeingApplied() throws Exception {
    start();
    datapath.gate = new CountDownLatch(1);
    datapath.entered = new CountDownLatch(1);
    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.1"), 131328, Ipv4.parse("198.18.1.1"));
    datapath.entered.await();
    for (int i = 0; i < 100; i++) {
      ipcache.upsert(SHARED, Ipv4.parse("10.2.0.2"), 131328 + i, Ipv4.parse("198.18.1.1"));
    }
    datapath.gate.countDown();
    settle();

    assertThat(datapath.batches).hasSize(2);
    assertThat(datapath.batches.get(1).ipcacheUpserts())
        .containsExactly(new IpCacheEntry(IpPrefix.parse("10.2.0.2/32"), 131328 + 99, Ipv4.parse("198.18.1.1")));
  }

  @Test
  void globalServiceGetsRemoteBackendsWithAStableRevNatId() throws Exception {
    start();
    services.upsert(svc(LOCAL, "172.20.17.66"));
    services.upsert(svc(SHARED, "172.21.0.9", "10.2.0.5", "10.2.1.5"));
    settle();
    Service programmed = datapath.snapshot().services().get(CLUSTER_IP);
    assertThat(programmed.backends()).extracting(a -> Ipv4.format(a.ip())).containsExactly("10.2.0.5", "10.2.1.5");
    int revNat = programmed.revNatId();
    assertThat(reconciler.revNatId(CLUSTER_IP)).contains(revNat);

    services.upsert(svc(SHARED, "172.21.0.9", "10.2.0.5"));
    settle();
    assertThat(datapath.snapshot().services().get(CLUSTER_IP).revNatId()).isEqualTo(revNat);
    assertThat(datapath.snapshot().services().get(CLUSTER_IP).backends()).hasSize(1);

    services.delete(LOCAL, "testing", "backend-svc");
    settle();
    assertThat(datapath.snapshot().services()).isEmpty();
  }

  @Test
  void retriesAFailedBatchUntilTheDatapathTakesIt() throws Exception {
    start();
    datapath.failNext.set(2);
    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.5"), 131328, Ipv4.parse("198.18.1.1"));
    settle();
    assertThat(datapath.snapshot().ipcache()).containsKey(IpPrefix.parse("10.2.0.5/32"));
  }

  @Test
  void restartAdoptsProgrammedStateAndRemovesNothingUntilRestoreIsComplete() throws Exception {
    IpPrefix stale = IpPrefix.parse("10.2.0.7/32");
    IpPrefix kept = IpPrefix.parse("10.2.0.5/32");
    Service oldService = new Service(CLUSTER_IP, Service.Kind.CLUSTER_IP, 42,
        List.of(new L4Address(Ipv4.parse("10.2.0.5"), 8080, Protocol.TCP)), 0);
    datapath.fake.apply(ChangeSet.builder()
        .upsert(new IpCacheEntry(stale, 131328, Ipv4.parse("198.18.1.1")))
        .upsert(new IpCacheEntry(kept, 131328, Ipv4.parse("198.18.1.1")))
        .upsert(oldService)
        .build());
    start();

    // The tables fill again; the stale pod is gone from the kvstore.
    ipcache.upsert(SHARED, Ipv4.parse("10.2.0.5"), 131328, Ipv4.parse("198.18.1.1"));
    services.upsert(svc(LOCAL, "172.20.17.66"));
    services.upsert(svc(SHARED, null, "10.2.0.5", "10.2.1.5"));
    settle();
    assertThat(datapath.snapshot().ipcache()).containsKeys(stale, kept);
    assertThat(datapath.snapshot().services().get(CLUSTER_IP).revNatId()).as("revNat id kept").isEqualTo(42);
    assertThat(datapath.batches).noneMatch(b -> !b.ipcacheDeletes().isEmpty() || !b.serviceDeletes().isEmpty());

    reconciler.restoreComplete();
    settle();
    assertThat(datapath.snapshot().ipcache()).containsOnlyKeys(kept);
    assertThat(datapath.snapshot().services().get(CLUSTER_IP).backends()).hasSize(2);
  }

  @Test
  void restoredServiceThatNoClusterClaimsIsRemovedOnceRestoreIsComplete() throws Exception {
    L4Address gone = new L4Address(Ipv4.parse("172.20.0.99"), 443, Protocol.TCP);
    datapath.fake.apply(ChangeSet.builder().upsert(new Service(gone, Service.Kind.CLUSTER_IP, 7, List.of(), 0)).build());
    start();
    settle();
    assertThat(datapath.snapshot().services()).containsKey(gone);
    reconciler.restoreComplete();
    settle();
    assertThat(datapath.snapshot().services()).doesNotContainKey(gone);
  }
}
