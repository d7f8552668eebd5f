package dev.meshwork.e2e.reliability;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.BackendPort;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Frontend;
import dev.meshwork.proto.v1.FrontendType;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import dev.meshwork.proto.v1.Protocol;
import dev.meshwork.proto.v1.ServicePort;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.SortedSet;
import java.util.concurrent.TimeUnit;

/**
 * One cluster of the mesh as the fault-tolerance suite sees it: its real etcd and the writer its
 * operator uses (one {@link SyncStore} per kind: leases, synced canaries, and the data-loss check
 * that rewrites everything into a wiped etcd), plus the global service {@code testing/backend-svc}
 * whose backends the suite churns. The backends it currently exports are tracked, so a test can
 * state the expected datapath.
 *
 * <p>The agent's and kvstore-sync's own ITs have similar writers in their test sources; they are
 * not reachable from e2e without test jars (see docs/reliability.md).
 */
final class RemoteCluster implements AutoCloseable {
  static final String NAMESPACE = "testing";
  static final String SERVICE = "backend-svc";

  final EtcdExtension etcd;
  final String name;
  final int id;
  final String clusterIp;
  private final int octet;
  private EtcdConnection connection;
  private final Map<Kind, SyncStore<Message>> stores = new EnumMap<>(Kind.class);
  private final SortedSet<String> backends = new TreeSet<>();
  private final Map<String, Integer> backendNodes = new java.util.HashMap<>();
  private int nodeCount;

  /**
   * @param octet the cluster's number in addresses: nodes 198.18.{octet}.x, pods 10.{octet}.x.y
   */
  RemoteCluster(EtcdExtension etcd, String name, int id, int octet, String clusterIp) {
    this.etcd = etcd;
    this.name = name;
    this.id = id;
    this.octet = octet;
    this.clusterIp = clusterIp;
    openWriter();
  }

  /** A new operator writer (new connection, new SyncStores), as after an operator restart. */
  synchronized void openWriter() {
    closeWriter();
    connection = EtcdConnection.of("operator of " + name, EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
    for (Kind kind : Kind.values()) {
      stores.put(kind, store(kind, kind.codec()));
    }
  }

  @SuppressWarnings("unchecked")
  private <T extends Message> SyncStore<Message> store(Kind kind, Codec<T> codec) {
    SyncStore<T> store = SyncStore.builder(connection, KeyLayout.state(), name, kind, codec)
        .dataLossCheckInterval(Duration.ofSeconds(1))
        .build();
    store.start();
    return (SyncStore<Message>) store;
  }

  private synchronized void closeWriter() {
    stores.values().forEach(SyncStore::close);
    stores.clear();
    if (connection != null) connection.close();
    connection = null;
  }

  /** The clustermesh file an agent or kvstore-sync uses to reach this cluster. */
  Path writeConfigFile(Path dir) throws IOException {
    return writeConfigFile(dir, name);
  }

  Path writeConfigFile(Path dir, String fileName) throws IOException {
    return writeConfigFile(dir, fileName, etcd.endpoint());
  }

  /** The clustermesh file with another endpoint (e.g. a {@link TcpProxy} in front of the etcd). */
  Path writeConfigFile(Path dir, String fileName, String endpoint) throws IOException {
    Files.createDirectories(dir);
    return Files.writeString(dir.resolve(fileName), "endpoints:\n  - " + endpoint + "\n");
  }

  /** Waits until the writer has nothing left to write. */
  void awaitWritten() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (stores.values().stream().anyMatch(s -> s.queueDepth() > 0)) {
      if (System.nanoTime() > deadline) throw new IllegalStateException("operator of " + name + ": writes still queued after 30 s");
      Thread.sleep(20);
    }
  }

  RemoteCluster writeClusterConfig() {
    etcd.put(KeyLayout.clusterConfigKey(name), Codecs.CLUSTER_CONFIG.encode(
        ClusterConfig.newBuilder().setName(name).setId(id).addCapabilities("synced-canaries").build()));
    return this;
  }

  /**
   * The initial state: {@code nodes} nodes, each with one pod CIDR, an identity, and
   * {@code podsPerNode} backend pods of the global service; then the synced canaries.
   */
  void populate(int nodes, int podsPerNode) throws Exception {
    writeClusterConfig();
    identity(300, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=" + NAMESPACE);
    for (int n = 1; n <= nodes; n++) {
      node(n);
      for (int p = 1; p <= podsPerNode; p++) {
        addBackend(podIp(n, p), n);
      }
    }
    publishService();
    synced();
  }

  void synced() throws Exception {
    for (SyncStore<Message> s : stores.values()) s.synced();
    for (SyncStore<Message> s : stores.values()) s.canaryWritten().get(30, TimeUnit.SECONDS);
  }

  String nodeIp(int node) {
    return "198.18." + octet + "." + node;
  }

  String podIp(int node, int pod) {
    return "10." + octet + "." + node + "." + pod;
  }

  synchronized void node(int n) {
    String nodeName = name + "-node-" + n;
    nodeCount = Math.max(nodeCount, n);
    stores.get(Kind.NODES).upsert(KeyLayout.state().nodeKey(name, nodeName), Node.newBuilder()
        .setCluster(name).setClusterId(id).setName(nodeName)
        .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress(nodeIp(n)))
        .addPodCidrs("10." + octet + "." + n + ".0/24")
        .build());
  }

  synchronized void identity(int local, String... labels) {
    int numeric = id << 16 | local;
    stores.get(Kind.IDENTITIES).upsert(KeyLayout.state().identityKey(name, numeric),
        Identity.newBuilder().setId(numeric).setCluster(name).addAllLabels(List.of(labels)).build());
  }

  /** A backend pod on node {@code n}: its ipcache entry now, its place in the service at the next publish. */
  synchronized void addBackend(String ip, int n) {
    stores.get(Kind.IPCACHE).upsert(KeyLayout.state().ipcacheKey(name, ip), IPCacheEntry.newBuilder()
        .setIp(ip).setIdentity(id << 16 | 300).setHostIp(nodeIp(n)).setCluster(name)
        .setNamespace(NAMESPACE).setPodName("pod-" + ip).build());
    backends.add(ip);
    backendNodes.put(ip, n);
  }

  synchronized void removeBackend(String ip) {
    stores.get(Kind.IPCACHE).delete(KeyLayout.state().ipcacheKey(name, ip));
    backends.remove(ip);
    backendNodes.remove(ip);
  }

  /**
   * Writes everything this cluster holds again through a new writer, then the canaries: what a
   * restarted operator does into a new etcd. The cluster-config too.
   */
  synchronized void rewriteAll() throws Exception {
    openWriter();
    writeClusterConfig();
    identity(300, "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=" + NAMESPACE);
    for (int n = 1; n <= nodeCount; n++) node(n);
    for (String ip : List.copyOf(backends)) addBackend(ip, backendNodes.get(ip));
    publishService();
    synced();
  }

  /**
   * What the datapath of an agent must hold for this cluster, as {@link ChangeLogDatapath}
   * describes removals: each backend on {@code frontend}, each pod's /32, each node's pod CIDR
   * and node IP. A removal of any of these is a wrong delete.
   */
  synchronized java.util.Set<String> programmedEntries(dev.meshwork.datapath.L4Address frontend) {
    java.util.Set<String> out = new java.util.HashSet<>();
    for (String ip : backends) {
      out.add("backend " + ip + ":8080/TCP of " + frontend);
      out.add("ipcache " + ip + "/32");
    }
    for (int n = 1; n <= nodeCount; n++) {
      out.add("ipcache 10." + octet + "." + n + ".0/24");
      out.add("ipcache " + nodeIp(n) + "/32");
    }
    return out;
  }

  /** Writes the global service with the backends added and not removed so far. */
  synchronized void publishService() {
    ClusterService.Builder service = ClusterService.newBuilder()
        .setCluster(name).setClusterId(id).setNamespace(NAMESPACE).setName(SERVICE)
        .addFrontends(Frontend.newBuilder().setIp(clusterIp).setType(FrontendType.FRONTEND_TYPE_CLUSTER_IP))
        .addPorts(ServicePort.newBuilder().setName("http").setPort(80).setProtocol(Protocol.PROTOCOL_TCP))
        .setShared(true)
        .setAffinity(Affinity.AFFINITY_NONE);
    for (String ip : backends) {
      service.addBackends(Backend.newBuilder().setIp(ip).setReady(true).setServing(true)
          .putPorts("http", BackendPort.newBuilder().setPort(8080).setProtocol(Protocol.PROTOCOL_TCP).build()));
    }
    stores.get(Kind.SERVICES).upsert(KeyLayout.state().serviceKey(name, NAMESPACE, SERVICE), service.build());
  }

  /** The backends this cluster exports, as the datapath shows them ({@code ip:8080/TCP}). */
  synchronized SortedSet<String> expectedBackends() {
    SortedSet<String> out = new TreeSet<>();
    backends.forEach(ip -> out.add(ip + ":8080/TCP"));
    return out;
  }

  /** The pod IPs this cluster exports (each is an ipcache entry /32). */
  synchronized SortedSet<String> podIps() {
    return new TreeSet<>(backends);
  }

  @Override
  public void close() {
    closeWriter();
  }
}
