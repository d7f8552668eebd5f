package dev.meshwork.agent.clustermesh;

import static dev.meshwork.agent.testsupport.ClusterOperatorDouble.backend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.agent.testsupport.TestAgent;
import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.LoadBalancerEntry;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import dev.meshwork.proto.v1.NodeInfo;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import dev.meshwork.proto.v1.ServiceBackendInfo;
import dev.meshwork.proto.v1.ServiceInfo;
import dev.meshwork.proto.v1.TunnelEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent control plane against real etcds, one per cluster, each cluster's operator played by
 * SyncStores: the blog's scenario and the failure semantics of ARCHITECTURE.md.
 */
class ClusterMeshIT {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final String THIRD = "k8s-third-cluster";
  static final L4Address CLUSTER_IP = new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP);
  static final ListRequest ALL = ListRequest.getDefaultInstance();

  @RegisterExtension static final EtcdExtension testEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension thirdEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Path meshDir;
  Path localConfig;
  ClusterOperatorDouble test;
  ClusterOperatorDouble shared;
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeAll
  static void awaitIgnoresNotYetThere() {
    // A cluster or service that is not listed yet is "not yet", not a failure.
    Awaitility.ignoreExceptionsByDefault();
  }

  @AfterAll
  static void resetAwaitility() {
    Awaitility.reset();
  }

  @BeforeEach
  void setUp() throws Exception {
    for (EtcdExtension etcd : List.of(testEtcd, sharedEtcd, thirdEtcd)) {
      etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    }
    meshDir = Files.createDirectories(tmp.resolve("clustermesh"));
    Path localDir = Files.createDirectories(tmp.resolve("local"));
    test = operator(testEtcd, TEST, 1);
    shared = operator(sharedEtcd, SHARED, 2);
    localConfig = test.writeConfigFile(localDir);
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

  TestAgent agent() {
    return agent(new RecordingDatapath(), Optional.empty());
  }

  TestAgent agent(RecordingDatapath datapath, Optional<Duration> cacheTtl) {
    TestAgent agent = new TestAgent(TEST, 1, "test-node-1", localConfig, meshDir, tmp.resolve("agent-" + closeables.size() + ".sock"), datapath, cacheTtl);
    closeables.add(agent);
    return agent;
  }

  /** The blog's clusters: backend-svc is global in both; only the shared cluster has endpoints. */
  void blogClusters() throws Exception {
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
    shared.writeConfigFile(meshDir);
  }

  static List<String> backendsOf(DatapathSnapshot snapshot, L4Address frontend) {
    Service s = snapshot.services().get(frontend);
    return s == null ? List.of() : s.backends().stream().map(L4Address::toString).toList();
  }

  RemoteClusterStatus remote(TestAgent agent, String name) {
    ClusterMeshStatus status = agent.api().getClusterMeshStatus(ALL);
    return status.getRemotesList().stream().filter(r -> r.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void testClusterServesBothSharedClusterPodsOnItsOwnClusterIp() throws Exception {
    blogClusters();
    TestAgent agent = agent();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      ServiceInfo svc = agent.api().listServices(ALL).getServicesList().stream()
          .filter(s -> s.getName().equals("backend-svc")).findFirst().orElseThrow();
      assertThat(svc.getNamespace()).isEqualTo("testing");
      assertThat(svc.getFrontend()).isEqualTo("172.20.17.66:80/TCP");
      assertThat(svc.getType()).isEqualTo("ClusterIP");
      assertThat(svc.getBackendsList()).extracting(ServiceBackendInfo::getAddress, ServiceBackendInfo::getCluster)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("10.2.1.17:8080/TCP", SHARED),
              org.assertj.core.groups.Tuple.tuple("10.2.2.9:8080/TCP", SHARED));
      assertThat(svc.getId()).isPositive();
    });
    // The tables answer first; the reconciler applies them to the datapath right after.
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).containsExactly("10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP"));
    List<LoadBalancerEntry> lb = agent.api().listLoadBalancerEntries(ALL).getEntriesList();
    assertThat(lb).filteredOn(e -> e.getServiceAddress().equals("172.20.17.66:80/TCP"))
        .extracting(LoadBalancerEntry::getSlot, LoadBalancerEntry::getBackendAddress)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(0, ""),
            org.assertj.core.groups.Tuple.tuple(1, "10.2.1.17:8080/TCP"),
            org.assertj.core.groups.Tuple.tuple(2, "10.2.2.9:8080/TCP"));
    // The shared cluster's own ClusterIP is not programmed here: each cluster uses its own frontends.
    assertThat(agent.datapath.snapshot().services()).containsOnlyKeys(CLUSTER_IP);
    // Remote pods are in the ipcache with their identity and tunnel endpoint.
    assertThat(agent.datapath.snapshot().ipcache().get(IpPrefix.parse("10.2.1.17/32")).tunnelEndpoint())
        .isEqualTo(Ipv4.parse("198.18.1.1"));
    assertThat(agent.api().listIdentities(ALL).getIdentitiesList())
        .anySatisfy(i -> {
          assertThat(i.getId()).isEqualTo(2 << 16 | 300);
          assertThat(i.getCluster()).isEqualTo(SHARED);
          assertThat(i.getLabelsList()).contains("k8s:app=backend");
        });
    RemoteClusterStatus status = remote(agent, SHARED);
    assertThat(status.getReady()).isTrue();
    assertThat(status.getId()).isEqualTo(2);
    assertThat(status.getNodes()).isEqualTo(2);
    assertThat(status.getEndpoints()).isEqualTo(2);
    assertThat(status.getServices()).isEqualTo(1);
    assertThat(status.getSyncedKindsList()).containsExactlyInAnyOrder("nodes", "services", "identities", "ipcache");
  }

  @Test
  void remoteNodeAppearsInNodeListAndTunnelList() throws Exception {
    blogClusters();
    TestAgent agent = agent();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(agent.api().listNodes(ALL).getNodesList())
            .extracting(NodeInfo::getCluster, NodeInfo::getName, NodeInfo::getIpv4Address, NodeInfo::getSource)
            .containsExactly(
                org.assertj.core.groups.Tuple.tuple(TEST, "test-node-1", "198.18.0.1", "local"),
                org.assertj.core.groups.Tuple.tuple(TEST, "test-node-2", "198.18.0.2", "kvstore"),
                org.assertj.core.groups.Tuple.tuple(SHARED, "shared-node-1", "198.18.1.1", "clustermesh"),
                org.assertj.core.groups.Tuple.tuple(SHARED, "shared-node-2", "198.18.1.2", "clustermesh")));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(agent.api().listTunnels(ALL).getTunnelsList())
            .extracting(TunnelEntry::getPrefix, TunnelEntry::getTunnelEndpoint, TunnelEntry::getCluster)
            .containsExactly(
                org.assertj.core.groups.Tuple.tuple("10.1.1.0/24", "198.18.0.2", TEST),
                org.assertj.core.groups.Tuple.tuple("10.2.1.0/24", "198.18.1.1", SHARED),
                org.assertj.core.groups.Tuple.tuple("10.2.2.0/24", "198.18.1.2", SHARED)));

    shared.node("shared-node-3", "198.18.1.3", "10.2.3.0/24");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(agent.api().listTunnels(ListRequest.newBuilder().setCluster(SHARED).build()).getTunnelsList())
            .extracting(TunnelEntry::getPrefix).contains("10.2.3.0/24"));
  }

  @Test
  void theCertificateFilesOfTheMountedSecretAreNotTakenForClusters() throws Exception {
    blogClusters();
    // The clustermesh Secret mounts each remote's client certificate, key and CA next to its config.
    for (String extra : List.of(SHARED + ".etcd-client.crt", SHARED + ".etcd-client.key", SHARED + "-ca.crt")) {
      Files.writeString(meshDir.resolve(extra), "-----BEGIN PRIVATE KEY-----\nnot a cluster config\n-----END PRIVATE KEY-----\n");
    }
    TestAgent agent = agent();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(remote(agent, SHARED).getReady()).isTrue());
    assertThat(agent.api().getClusterMeshStatus(ALL).getRemotesList())
        .extracting(RemoteClusterStatus::getName)
        .containsExactly(SHARED);
    // No phantom cluster holds back the end of the restore.
    await().atMost(Duration.ofSeconds(10)).until(() -> !agent.reconciler.restoring());
  }

  @Test
  void keepsRemoteStateWhileRemoteEtcdIsDownAndResyncsOnlyWhatChanged() throws Exception {
    blogClusters();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());
    // Ready means the remote's state is in the agent's tables; the datapath is programmed after.
    await().atMost(Duration.ofSeconds(10)).until(() -> backendsOf(agent.datapath.snapshot(), CLUSTER_IP).size() == 2);
    DatapathSnapshot before = agent.datapath.snapshot();
    int batchesBefore = agent.datapath.batches.size();

    sharedEtcd.stop();
    await().atMost(Duration.ofSeconds(30)).until(() -> !remote(agent, SHARED).getConnected());
    assertThat(agent.datapath.snapshot()).isEqualTo(before);
    assertThat(remote(agent, SHARED).getStatus()).startsWith("disconnected");
    // Meanwhile the shared cluster loses one backend; its operator writes that once etcd is back.
    shared.service("testing", "backend-svc", "172.21.8.4", true, Affinity.AFFINITY_NONE, backend("10.2.1.17", true));
    sharedEtcd.start();

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).containsExactly("10.2.1.17:8080/TCP"));
    await().atMost(Duration.ofSeconds(30)).until(() -> remote(agent, SHARED).getReady());
    assertThat(remote(agent, SHARED).getReconnections()).isGreaterThanOrEqualTo(1);

    // Nothing else flapped: every batch since the outage touched only that service, no deletes.
    List<ChangeSet> since = agent.datapath.batches.subList(batchesBefore, agent.datapath.batches.size());
    assertThat(since).allSatisfy(b -> {
      assertThat(b.ipcacheDeletes()).isEmpty();
      assertThat(b.ipcacheUpserts()).isEmpty();
      assertThat(b.serviceDeletes()).isEmpty();
      assertThat(b.serviceUpserts()).extracting(Service::frontend).containsOnly(CLUSTER_IP);
    });
    DatapathSnapshot after = agent.datapath.snapshot();
    assertThat(after.ipcache()).isEqualTo(before.ipcache());
    assertThat(after.services().get(CLUSTER_IP).revNatId()).isEqualTo(before.services().get(CLUSTER_IP).revNatId());
  }

  @Test
  void removingAClusterFileDrainsAllOfItsState() throws Exception {
    blogClusters();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).until(() -> backendsOf(agent.datapath.snapshot(), CLUSTER_IP).size() == 2);

    Files.delete(meshDir.resolve(SHARED));

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      DatapathSnapshot s = agent.datapath.snapshot();
      assertThat(backendsOf(s, CLUSTER_IP)).isEmpty();
      // What remains is the test cluster's: node-2's tunnel and both node IPs.
      assertThat(s.ipcache().keySet()).containsOnly(
          IpPrefix.parse("10.1.1.0/24"), IpPrefix.parse("198.18.0.1/32"), IpPrefix.parse("198.18.0.2/32"));
    });
    assertThat(agent.api().listNodes(ALL).getNodesList()).extracting(NodeInfo::getCluster).containsOnly(TEST);
    assertThat(agent.api().listIdentities(ALL).getIdentitiesList()).noneMatch(i -> i.getCluster().equals(SHARED));
    assertThat(agent.api().getClusterMeshStatus(ALL).getRemotesList()).isEmpty();
  }

  @Test
  void refusesClustersWithAConflictingIdAndShowsWhyInStatus() throws Exception {
    blogClusters();
    ClusterOperatorDouble third = operator(thirdEtcd, THIRD, 3);
    third.writeClusterConfig(THIRD, 2); // id 2 is the shared cluster's
    third.node("third-node-1", "198.18.2.1", "10.3.0.0/24");
    third.synced();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());

    third.writeConfigFile(meshDir);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      RemoteClusterStatus status = remote(agent, THIRD);
      assertThat(status.getReady()).isFalse();
      assertThat(status.getStatus()).isEqualTo("refused: cluster id 2 is also used by " + SHARED);
    });
    assertThat(agent.api().listNodes(ALL).getNodesList()).noneMatch(n -> n.getCluster().equals(THIRD));
    assertThat(remote(agent, SHARED).getReady()).isTrue();

    // The operator fixes the id to our own: still refused, with the reason.
    third.writeClusterConfig(THIRD, 1);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(remote(agent, THIRD).getStatus()).isEqualTo("refused: cluster id 1 is also used by " + TEST + " (this cluster)"));
    third.writeClusterConfig(THIRD, 0);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(remote(agent, THIRD).getStatus()).contains("cluster id 0 is invalid"));
    third.writeClusterConfig("k8s-other-name", 3);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(remote(agent, THIRD).getStatus()).contains("names the cluster 'k8s-other-name'"));

    // And once it is right, it is accepted.
    third.writeClusterConfig(THIRD, 3);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(remote(agent, THIRD).getReady()).isTrue();
      assertThat(agent.api().listNodes(ALL).getNodesList()).anyMatch(n -> n.getCluster().equals(THIRD));
    });
  }

  @Test
  void affinityAndSharingDecideWhichClustersBackendsAreUsed() throws Exception {
    test.writeClusterConfig();
    test.node("test-node-1", "198.18.0.1", "10.1.0.0/24");
    test.service("testing", "prefer-local", "172.20.0.1", true, Affinity.AFFINITY_LOCAL, backend("10.1.0.5", true));
    test.service("testing", "prefer-remote", "172.20.0.2", true, Affinity.AFFINITY_REMOTE, backend("10.1.0.6", true));
    test.service("testing", "any", "172.20.0.3", true, Affinity.AFFINITY_NONE, backend("10.1.0.7", true));
    test.service("testing", "not-exported-there", "172.20.0.4", true, Affinity.AFFINITY_NONE, backend("10.1.0.8", true));
    test.service("testing", "not-exported-here", "172.20.0.5", false, Affinity.AFFINITY_NONE, backend("10.1.0.9", true));
    test.synced();
    shared.writeClusterConfig();
    for (String name : List.of("prefer-local", "prefer-remote", "any", "not-exported-here")) {
      shared.service("testing", name, "172.21.0.1", true, Affinity.AFFINITY_NONE, backend("10.2.0.5", true));
    }
    shared.service("testing", "not-exported-there", "172.21.0.1", false, Affinity.AFFINITY_NONE, backend("10.2.0.5", true));
    shared.synced();
    shared.writeConfigFile(meshDir);
    TestAgent agent = agent();

    L4Address preferLocal = new L4Address(Ipv4.parse("172.20.0.1"), 80, Protocol.TCP);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      DatapathSnapshot s = agent.datapath.snapshot();
      assertThat(backendsOf(s, preferLocal)).containsExactly("10.1.0.5:8080/TCP");
      assertThat(backendsOf(s, new L4Address(Ipv4.parse("172.20.0.2"), 80, Protocol.TCP))).containsExactly("10.2.0.5:8080/TCP");
      assertThat(backendsOf(s, new L4Address(Ipv4.parse("172.20.0.3"), 80, Protocol.TCP))).containsExactly("10.1.0.5:8080/TCP".replace("5", "7"), "10.2.0.5:8080/TCP");
      assertThat(backendsOf(s, new L4Address(Ipv4.parse("172.20.0.4"), 80, Protocol.TCP))).containsExactly("10.1.0.8:8080/TCP");
      assertThat(backendsOf(s, new L4Address(Ipv4.parse("172.20.0.5"), 80, Protocol.TCP))).containsExactly("10.1.0.9:8080/TCP", "10.2.0.5:8080/TCP");
    });

    // The local backend of prefer-local stops being ready: the remote one takes over.
    test.service("testing", "prefer-local", "172.20.0.1", true, Affinity.AFFINITY_LOCAL, backend("10.1.0.5", false));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(backendsOf(agent.datapath.snapshot(), preferLocal)).containsExactly("10.2.0.5:8080/TCP"));
  }

  @Test
  void skipsAndCountsCorruptAndForeignKeys() throws Exception {
    blogClusters();
    KeyLayout layout = KeyLayout.state();
    // Garbage that does not decode.
    sharedEtcd.put(layout.ipcacheKey(SHARED, "10.2.9.1"), new byte[] {(byte) 0xff, 0x01, 0x02});
    // An entry claiming to belong to another cluster.
    sharedEtcd.put(layout.ipcacheKey(SHARED, "10.2.9.2"), IPCacheEntry.newBuilder()
        .setIp("10.2.9.2").setIdentity(2 << 16 | 300).setHostIp("198.18.1.1").setCluster(THIRD).build().toByteArray());
    // A key in another cluster's folder of this etcd.
    sharedEtcd.put(layout.ipcacheKey(THIRD, "10.3.9.3"), IPCacheEntry.newBuilder()
        .setIp("10.3.9.3").setIdentity(3 << 16 | 300).setHostIp("198.18.2.1").setCluster(THIRD).build().toByteArray());
    // An identity outside the shared cluster's range (cluster id 1 is ours).
    sharedEtcd.put(layout.identityKey(SHARED, 1 << 16 | 999), Identity.newBuilder()
        .setId(1 << 16 | 999).setCluster(SHARED).addLabels("k8s:app=evil").build().toByteArray());
    // A node whose pod CIDR overlaps one of the test cluster's nodes.
    sharedEtcd.put(layout.nodeKey(SHARED, "shared-node-9"), Node.newBuilder()
        .setCluster(SHARED).setClusterId(2).setName("shared-node-9")
        .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress("198.18.1.9"))
        .addPodCidrs("10.1.1.128/25").build().toByteArray());
    TestAgent agent = agent();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(remote(agent, SHARED).getReady()).isTrue();
      assertThat(agent.mesh.rejectedKeys(SHARED)).isEqualTo(5);
    });
    DatapathSnapshot s = agent.datapath.snapshot();
    assertThat(s.ipcache()).containsKeys(IpPrefix.parse("10.2.1.17/32"), IpPrefix.parse("10.2.2.9/32"));
    assertThat(s.ipcache()).doesNotContainKeys(
        IpPrefix.parse("10.2.9.1/32"), IpPrefix.parse("10.2.9.2/32"), IpPrefix.parse("10.3.9.3/32"), IpPrefix.parse("10.1.1.128/25"));
    assertThat(s.ipcache().get(IpPrefix.parse("10.1.1.0/24")).tunnelEndpoint()).isEqualTo(Ipv4.parse("198.18.0.2"));
    assertThat(agent.api().listIdentities(ALL).getIdentitiesList()).noneMatch(i -> i.getLabelsList().contains("k8s:app=evil"));
    assertThat(agent.api().listNodes(ALL).getNodesList()).noneMatch(n -> n.getName().equals("shared-node-9"));
    assertThat(remote(agent, SHARED).getLastFailure()).startsWith("rejected ");
    assertThat(agent.metrics.scrape()).contains("meshwork_agent_clustermesh_rejected_keys_total{cluster=\"k8s-shared-cluster\"} 5.0");
  }

  @Test
  void agentRestartKeepsProgrammedStateUntilEveryClusterIsListedAgain() throws Exception {
    blogClusters();
    RecordingDatapath datapath = new RecordingDatapath();
    TestAgent first = agent(datapath, Optional.empty());
    await().atMost(Duration.ofSeconds(20)).until(() -> backendsOf(datapath.snapshot(), CLUSTER_IP).size() == 2);
    first.close();
    closeables.remove(first);
    DatapathSnapshot programmed = datapath.snapshot();

    // The shared cluster is unreachable while the agent restarts: nothing may be removed.
    sharedEtcd.stop();
    int batches = datapath.batches.size();
    TestAgent second = agent(datapath, Optional.empty());
    await().atMost(Duration.ofSeconds(20)).until(() -> second.mesh.ready(TEST));
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
        .until(() -> datapath.snapshot().equals(programmed));
    assertThat(datapath.batches.subList(batches, datapath.batches.size()))
        .allSatisfy(b -> assertThat(b.ipcacheDeletes()).isEmpty())
        .allSatisfy(b -> assertThat(b.serviceDeletes()).isEmpty());

    sharedEtcd.start();
    await().atMost(Duration.ofSeconds(30)).until(() -> remote(second, SHARED).getReady());
    assertThat(backendsOf(datapath.snapshot(), CLUSTER_IP)).containsExactly("10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP");
    assertThat(datapath.snapshot().services().get(CLUSTER_IP).revNatId())
        .isEqualTo(programmed.services().get(CLUSTER_IP).revNatId());
  }

  @Test
  void withACacheTtlAnUnreachableClusterIsDrainedAndRestoredWhenItComesBack() throws Exception {
    blogClusters();
    TestAgent agent = agent(new RecordingDatapath(), Optional.of(Duration.ofSeconds(1)));
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());

    sharedEtcd.stop();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).isEmpty();
      assertThat(agent.datapath.snapshot().ipcache()).doesNotContainKey(IpPrefix.parse("10.2.1.0/24"));
    });
    assertThat(remote(agent, SHARED).getLastFailure()).contains("cache TTL");

    sharedEtcd.start();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).containsExactly("10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP"));
  }

  @Test
  void aChangedClusterFileReconnectsWithoutDroppingState() throws Exception {
    blogClusters();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());
    int batches = agent.datapath.batches.size();

    // Same etcd, reached under another name: a new client, the state is relisted, nothing flaps.
    String endpoint = sharedEtcd.endpoint().replace("127.0.0.1", "localhost");
    Files.writeString(meshDir.resolve(SHARED), "endpoints:\n  - " + endpoint + "\n");
    shared.deletePod("10.2.2.9");

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(agent.datapath.snapshot().ipcache()).doesNotContainKey(IpPrefix.parse("10.2.2.9/32")));
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());
    assertThat(agent.datapath.batches.subList(batches, agent.datapath.batches.size()))
        .flatExtracting(ChangeSet::ipcacheDeletes).containsOnly(IpPrefix.parse("10.2.2.9/32"));
    assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).hasSize(2);
  }

  @Test
  void exportsPerClusterReadinessEntriesAndReconcileLatencyAsPrometheusMetrics() throws Exception {
    blogClusters();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).until(() -> remote(agent, SHARED).getReady());

    String scrape = agent.metrics.scrape();
    assertThat(scrape)
        .contains("meshwork_agent_clustermesh_ready{cluster=\"k8s-shared-cluster\"} 1.0")
        .contains("meshwork_agent_clustermesh_entries{cluster=\"k8s-shared-cluster\",kind=\"nodes\"} 2.0")
        .contains("meshwork_agent_clustermesh_entries{cluster=\"k8s-shared-cluster\",kind=\"ipcache\"} 2.0")
        .contains("meshwork_agent_clustermesh_rejected_keys_total{cluster=\"k8s-shared-cluster\"} 0.0")
        .contains("meshwork_agent_reconcile_duration_seconds_count")
        .contains("meshwork_agent_datapath_changes_total");
  }

  @Test
  void statusShowsAMissingOrStaleHeartbeatWithoutRemovingAnything() throws Exception {
    blogClusters();
    TestAgent agent = agent();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(remote(agent, SHARED).getStatus()).isEqualTo("ready; heartbeat not seen yet"));

    sharedEtcd.put(KeyLayout.heartbeatKey(SHARED), dev.meshwork.proto.v1.Heartbeat.newBuilder()
        .setTimestampMillis(System.currentTimeMillis()).setWriter("meshwork-operator/test").build().toByteArray());
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(remote(agent, SHARED).getStatus()).isEqualTo("ready"));

    sharedEtcd.put(KeyLayout.heartbeatKey(SHARED), dev.meshwork.proto.v1.Heartbeat.newBuilder()
        .setTimestampMillis(System.currentTimeMillis() - Duration.ofMinutes(10).toMillis()).build().toByteArray());
    // An older heartbeat than the one seen is ignored; a stale one only shows once time passes,
    // so here the status stays ready and nothing is removed either way.
    assertThat(remote(agent, SHARED).getReady()).isTrue();
    assertThat(backendsOf(agent.datapath.snapshot(), CLUSTER_IP)).hasSize(2);
  }
}
