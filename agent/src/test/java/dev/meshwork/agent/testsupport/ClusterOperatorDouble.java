package dev.meshwork.agent.testsupport;

import com.google.protobuf.Message;
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
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Plays one cluster's operator against a real etcd: cluster-config written directly, state
 * through one {@link SyncStore} per kind (leases, coalescing, synced canaries), as the real
 * operator does.
 */
public final class ClusterOperatorDouble implements AutoCloseable {
  public final String cluster;
  public final int id;
  private final EtcdExtension etcd;
  private final EtcdConnection connection;
  private final KeyLayout layout = KeyLayout.state();
  private final SyncStore<Node> nodes;
  private final SyncStore<ClusterService> services;
  private final SyncStore<Identity> identities;
  private final SyncStore<IPCacheEntry> ipcache;

  public ClusterOperatorDouble(EtcdExtension etcd, String cluster, int id) {
    this.etcd = etcd;
    this.cluster = cluster;
    this.id = id;
    this.connection =
        EtcdConnection.of("operator of " + cluster, EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
    nodes = store(Kind.NODES, Codecs.NODE);
    services = store(Kind.SERVICES, Codecs.SERVICE);
    identities = store(Kind.IDENTITIES, Codecs.IDENTITY);
    ipcache = store(Kind.IPCACHE, Codecs.IPCACHE);
  }

  private <T extends Message> SyncStore<T> store(Kind kind, dev.meshwork.kvstore.codec.Codec<T> codec) {
    SyncStore<T> store = SyncStore.builder(connection, layout, cluster, kind, codec).build();
    store.start();
    return store;
  }

  /** The file an agent uses to connect to this cluster's etcd, written into {@code dir}. */
  public Path writeConfigFile(Path dir) throws Exception {
    return Files.writeString(dir.resolve(cluster), "endpoints:\n  - " + etcd.endpoint() + "\n");
  }

  public ClusterOperatorDouble writeClusterConfig() {
    return writeClusterConfig(cluster, id);
  }

  public ClusterOperatorDouble writeClusterConfig(String name, int clusterId) {
    etcd.put(
        KeyLayout.clusterConfigKey(cluster),
        ClusterConfig.newBuilder().setName(name).setId(clusterId).addCapabilities("synced-canaries").build().toByteArray());
    return this;
  }

  /** Declares the initial state complete and waits until every canary is written. */
  public void synced() throws Exception {
    for (SyncStore<?> s : List.of(nodes, services, identities, ipcache)) {
      s.synced();
    }
    for (SyncStore<?> s : List.of(nodes, services, identities, ipcache)) {
      s.canaryWritten().get(30, TimeUnit.SECONDS);
    }
  }

  public void node(String name, String ip, String... cidrs) {
    nodes.upsert(
        layout.nodeKey(cluster, name),
        Node.newBuilder()
            .setCluster(cluster)
            .setClusterId(id)
            .setName(name)
            .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress(ip))
            .addAllPodCidrs(List.of(cidrs))
            .build());
  }

  public void deleteNode(String name) {
    nodes.delete(layout.nodeKey(cluster, name));
  }

  /** A pod: its ipcache entry with identity {@code id << 16 | local}. */
  public void pod(String ip, int localIdentity, String hostIp) {
    ipcache.upsert(
        layout.ipcacheKey(cluster, ip),
        IPCacheEntry.newBuilder()
            .setIp(ip)
            .setIdentity(id << 16 | localIdentity)
            .setHostIp(hostIp)
            .setCluster(cluster)
            .setNamespace("testing")
            .setPodName("pod-" + ip)
            .build());
  }

  public void deletePod(String ip) {
    ipcache.delete(layout.ipcacheKey(cluster, ip));
  }

  public void identity(int localIdentity, String... labels) {
    int numeric = id << 16 | localIdentity;
    identities.upsert(
        layout.identityKey(cluster, numeric),
        Identity.newBuilder().setId(numeric).setCluster(cluster).addAllLabels(List.of(labels)).build());
  }

  /** A backend serving port "http" on 8080. */
  public static Backend backend(String ip, boolean ready) {
    return Backend.newBuilder()
        .setIp(ip)
        .putPorts("http", BackendPort.newBuilder().setPort(8080).setProtocol(Protocol.PROTOCOL_TCP).build())
        .setReady(ready)
        .setServing(ready)
        .build();
  }

  /** A global service with port "http" 80/TCP on {@code clusterIp}. */
  public void service(String namespace, String name, String clusterIp, boolean shared, Affinity affinity, Backend... backends) {
    services.upsert(
        layout.serviceKey(cluster, namespace, name),
        ClusterService.newBuilder()
            .setCluster(cluster)
            .setClusterId(id)
            .setNamespace(namespace)
            .setName(name)
            .addFrontends(Frontend.newBuilder().setIp(clusterIp).setType(FrontendType.FRONTEND_TYPE_CLUSTER_IP))
            .addPorts(ServicePort.newBuilder().setName("http").setPort(80).setProtocol(Protocol.PROTOCOL_TCP))
            .addAllBackends(List.of(backends))
            .setShared(shared)
            .setAffinity(affinity)
            .build());
  }

  public void deleteService(String namespace, String name) {
    services.delete(layout.serviceKey(cluster, namespace, name));
  }

  @Override
  public void close() {
    for (SyncStore<?> s : List.of(nodes, services, identities, ipcache)) {
      s.close();
    }
    connection.close();
  }
}
