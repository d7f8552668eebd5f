package dev.meshwork.kvstoresync.mirror;

import com.google.protobuf.Message;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.key.IdentityRange;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.etcd.TlsFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** Plays a remote cluster's operator: writes its cluster-config, heartbeat and state with SyncStores. */
final class RemoteOperator implements AutoCloseable {
  final EtcdExtension etcd;
  final String cluster;
  final int id;
  private final EtcdConnection connection;
  private final Map<Kind, SyncStore<Message>> stores = new EnumMap<>(Kind.class);

  RemoteOperator(EtcdExtension etcd, String cluster, int id) {
    this.etcd = etcd;
    this.cluster = cluster;
    this.id = id;
    RemoteClusterConfig config = new RemoteClusterConfig(cluster, Path.of("test"),
        etcd.endpoints().stream().map(java.net.URI::create).toList(),
        etcd.tlsFiles().map(t -> new dev.meshwork.kvstore.etcd.TlsSettings(t.caCert(), Optional.of(t.clientCert()),
            Optional.of(t.clientKey()))));
    this.connection = EtcdConnection.of("remote " + cluster, EtcdClients.build(config));
    for (Kind kind : Kind.values()) {
      stores.put(kind, store(kind, kind.codec()));
    }
  }

  @SuppressWarnings("unchecked")
  private <T extends Message> SyncStore<Message> store(Kind kind, Codec<T> codec) {
    SyncStore<T> store = SyncStore.builder(connection, KeyLayout.state(), cluster, kind, codec)
        .dataLossCheckInterval(Duration.ofSeconds(1)).build();
    store.start();
    return (SyncStore<Message>) store;
  }

  /** Writes the cluster-config (with the given name and id) and a heartbeat. */
  RemoteOperator announce(String name, int clusterId) {
    etcd.put(KeyLayout.clusterConfigKey(cluster),
        Codecs.CLUSTER_CONFIG.encode(ClusterConfig.newBuilder().setName(name).setId(clusterId).build()));
    etcd.put(KeyLayout.heartbeatKey(cluster),
        Codecs.HEARTBEAT.encode(Heartbeat.newBuilder().setTimestampMillis(1234).setWriter("test-operator").build()));
    return this;
  }

  RemoteOperator announce() {
    return announce(cluster, id);
  }

  /** {@code count} valid entries of {@code kind}, key → value, numbered from 1. */
  Map<String, Message> entries(Kind kind, int count) {
    Map<String, Message> entries = new LinkedHashMap<>();
    KeyLayout layout = KeyLayout.state();
    for (int i = 1; i <= count; i++) {
      long identity = IdentityRange.identity(ClusterId.of(id), IdentityRange.MIN_LOCAL + i);
      switch (kind) {
        case NODES -> entries.put(layout.nodeKey(cluster, "node-" + i),
            Node.newBuilder().setCluster(cluster).setName("node-" + i).setClusterId(id).build());
        case SERVICES -> entries.put(layout.serviceKey(cluster, "default", "svc-" + i),
            ClusterService.newBuilder().setCluster(cluster).setClusterId(id).setNamespace("default").setName("svc-" + i).build());
        case IDENTITIES -> entries.put(layout.identityKey(cluster, identity),
            Identity.newBuilder().setId((int) identity).setCluster(cluster).addLabels("app=a" + i).build());
        case IPCACHE -> entries.put(layout.ipcacheKey(cluster, "10.1.0." + i),
            IPCacheEntry.newBuilder().setIp("10.1.0." + i).setIdentity((int) identity).setCluster(cluster).build());
      }
    }
    return entries;
  }

  /** Writes {@code count} entries of every kind; returns them all. */
  Map<String, Message> writeAll(int count) {
    Map<String, Message> all = new LinkedHashMap<>();
    for (Kind kind : Kind.values()) {
      Map<String, Message> entries = entries(kind, count);
      entries.forEach(stores.get(kind)::upsert);
      all.putAll(entries);
    }
    return all;
  }

  void upsert(Kind kind, String key, Message value) {
    stores.get(kind).upsert(key, value);
  }

  void delete(Kind kind, String key) {
    stores.get(kind).delete(key);
  }

  void synced(Kind... kinds) {
    for (Kind kind : kinds.length == 0 ? Kind.values() : kinds) {
      stores.get(kind).synced();
    }
  }

  boolean allCanariesWritten() {
    return stores.values().stream().allMatch(s -> s.canaryWritten().isDone());
  }

  /** Writes the config file of this remote into {@code dir}, with the Secret's certificate files beside it. */
  Path writeConfigFile(Path dir, String fileName) {
    try {
      StringBuilder yaml = new StringBuilder("endpoints:\n");
      etcd.endpoints().forEach(e -> yaml.append("- ").append(e).append('\n'));
      Optional<TlsFiles> tls = etcd.tlsFiles();
      if (tls.isPresent()) {
        Files.copy(tls.get().caCert(), dir.resolve(cluster + ".etcd-client-ca.crt"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(tls.get().clientCert(), dir.resolve(cluster + ".etcd-client.crt"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(tls.get().clientKey(), dir.resolve(cluster + ".etcd-client.key"), StandardCopyOption.REPLACE_EXISTING);
        yaml.append("trusted-ca-file: ").append(cluster).append(".etcd-client-ca.crt\n")
            .append("cert-file: ").append(cluster).append(".etcd-client.crt\n")
            .append("key-file: ").append(cluster).append(".etcd-client.key\n");
      }
      Path tmp = dir.resolve("." + fileName + ".tmp");
      Files.writeString(tmp, yaml);
      return Files.move(tmp, dir.resolve(fileName), StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  Path writeConfigFile(Path dir) {
    return writeConfigFile(dir, cluster + ".yaml");
  }

  @Override
  public void close() {
    stores.values().forEach(SyncStore::close);
    connection.close();
  }
}
