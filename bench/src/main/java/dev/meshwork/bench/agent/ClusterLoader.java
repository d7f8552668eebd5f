package dev.meshwork.bench.agent;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
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
import dev.meshwork.proto.v1.SyncedCanary;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/**
 * Writes one synthetic cluster into its etcd the way its operator would (same keys, same
 * values), but in batched transactions so that loading 100k endpoints takes seconds. Pod i of
 * cluster c is (10/8 + c << 18 + i) on node i/256; service k has the pods with i%services==k
 * as backends.
 */
final class ClusterLoader {
  static final int PODS_PER_NODE = 256;
  static final int IDENTITIES = 100;
  private static final int TXN_OPS = 128;

  final String cluster;
  final int id;
  final int pods;
  final int services;
  private final Client client;
  private final KeyLayout layout = KeyLayout.state();
  private final Semaphore inFlight = new Semaphore(16);
  private final List<CompletableFuture<?>> pending = new ArrayList<>();
  private final List<Op> batch = new ArrayList<>();

  ClusterLoader(Client client, String cluster, int id, int pods, int services) {
    this.client = client;
    this.cluster = cluster;
    this.id = id;
    this.pods = pods;
    this.services = services;
  }

  /** Cluster c owns 10.0.0.0/8's slice c << 18 (a /14, up to 262,144 pods). */
  static String podIp(int clusterId, int i) {
    return dev.meshwork.datapath.Ipv4.format(10 << 24 | clusterId << 18 | i);
  }

  static String podCidr(int clusterId, int node) {
    return dev.meshwork.datapath.Ipv4.format(10 << 24 | clusterId << 18 | node * PODS_PER_NODE) + "/24";
  }

  static String nodeIp(int clusterId, int node) {
    return dev.meshwork.datapath.Ipv4.format(dev.meshwork.datapath.Ipv4.parse("198.18.0.0") | clusterId << 10 | (node + 1));
  }

  int identityOf(int i, int variant) {
    return id << 16 | (256 + (i + variant) % IDENTITIES);
  }

  static String serviceName(int k) {
    return "svc-" + k;
  }

  /** Frontend of service k in the agent's (local) cluster: 172.20.(k/250).(k%250+1):80. */
  static String frontendIp(int k) {
    return "172.20." + (k / 250) + "." + (k % 250 + 1);
  }

  void loadAll(boolean withFrontends) throws Exception {
    put(KeyLayout.clusterConfigKey(cluster), ClusterConfig.newBuilder().setName(cluster).setId(id).build().toByteArray());
    int nodes = (pods + PODS_PER_NODE - 1) / PODS_PER_NODE;
    for (int n = 0; n < nodes; n++) {
      put(layout.nodeKey(cluster, "node-" + n), Node.newBuilder()
          .setCluster(cluster).setClusterId(id).setName("node-" + n)
          .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress(nodeIp(id, n)))
          .addPodCidrs(podCidr(id, n)).build().toByteArray());
    }
    for (int k = 0; k < IDENTITIES; k++) {
      int identity = id << 16 | (256 + k);
      put(layout.identityKey(cluster, identity), Identity.newBuilder().setId(identity).setCluster(cluster)
          .addLabels("k8s:app=bench-" + k).addLabels("k8s:io.kubernetes.pod.namespace=bench")
          .addLabels("k8s:io.cilium.k8s.policy.cluster=" + cluster).build().toByteArray());
    }
    for (int i = 0; i < pods; i++) {
      put(layout.ipcacheKey(cluster, podIp(id, i)), ipcache(i, 0).toByteArray());
    }
    for (int k = 0; k < services; k++) {
      put(layout.serviceKey(cluster, "bench", serviceName(k)), service(k, withFrontends, -1).toByteArray());
    }
    for (Kind kind : Kind.values()) {
      put(layout.syncedKey(cluster, kind), SyncedCanary.newBuilder().setCluster(cluster).setKind(kind.segment())
          .setTimestampMillis(System.currentTimeMillis()).build().toByteArray());
    }
    flush();
  }

  IPCacheEntry ipcache(int i, int variant) {
    return IPCacheEntry.newBuilder().setIp(podIp(id, i)).setIdentity(identityOf(i, variant))
        .setHostIp(nodeIp(id, i / PODS_PER_NODE)).setCluster(cluster).setNamespace("bench").setPodName("pod-" + i).build();
  }

  /** Service k; the backend with index {@code notReady} (or none when -1) is not ready. */
  ClusterService service(int k, boolean withFrontend, int notReady) {
    ClusterService.Builder s = ClusterService.newBuilder().setCluster(cluster).setClusterId(id)
        .setNamespace("bench").setName(serviceName(k)).setShared(true)
        .addPorts(ServicePort.newBuilder().setName("http").setPort(80).setProtocol(Protocol.PROTOCOL_TCP));
    if (withFrontend) {
      s.addFrontends(Frontend.newBuilder().setIp(frontendIp(k)).setType(FrontendType.FRONTEND_TYPE_CLUSTER_IP));
    }
    int b = 0;
    for (int i = k; i < pods; i += services, b++) {
      s.addBackends(Backend.newBuilder().setIp(podIp(id, i))
          .putPorts("http", BackendPort.newBuilder().setPort(8080).setProtocol(Protocol.PROTOCOL_TCP).build())
          .setReady(b != notReady).setServing(b != notReady).setZone("zone-a").setNodeName("node-" + (i / PODS_PER_NODE)));
    }
    return s.build();
  }

  int backendsPerService() {
    return (pods + services - 1) / services;
  }

  private void put(String key, byte[] value) throws InterruptedException {
    batch.add(Op.put(bytes(key), ByteSequence.from(value), PutOption.DEFAULT));
    if (batch.size() == TXN_OPS) {
      send();
    }
  }

  private void send() throws InterruptedException {
    if (batch.isEmpty()) return;
    Op[] ops = batch.toArray(Op[]::new);
    batch.clear();
    inFlight.acquire();
    pending.add(client.getKVClient().txn().Then(ops).commit().whenComplete((r, e) -> inFlight.release()));
  }

  void flush() throws Exception {
    send();
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
    pending.clear();
  }

  static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }
}
