package dev.meshwork.kvstore.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.RecordingHandler;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.BackendPort;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Frontend;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import dev.meshwork.proto.v1.ServicePort;
import dev.meshwork.proto.v1.SyncedCanary;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SyncWatchRoundTripIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  private final KeyLayout layout = KeyLayout.state();
  private EtcdConnection connection;

  @BeforeEach
  void connect() {
    connection = EtcdConnection.of("test etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
  }

  @AfterEach
  void disconnect() {
    connection.close();
  }

  private <T extends Message> void roundTrip(String cluster, Kind kind, Codec<T> codec, Map<String, T> values) {
    RecordingHandler<T> seen = new RecordingHandler<>(v -> "");
    try (SyncStore<T> writer = SyncStore.builder(connection, layout, cluster, kind, codec).build();
        WatchStore<T> reader =
            WatchStore.builder(connection, layout.prefix(kind, cluster), codec, seen)
                .syncedCanary(layout.syncedKey(cluster, kind))
                .build()) {
      writer.start();
      values.forEach(writer::upsert);
      writer.synced();
      reader.start();
      await().atMost(Duration.ofSeconds(10)).until(reader::isSynced);
      assertThat(seen.view()).isEqualTo(values);
      assertThat(reader.decodeFailures()).isZero();
      SyncedCanary canary =
          Codecs.SYNCED_CANARY.decode("", etcd.get(layout.syncedKey(cluster, kind)).orElseThrow()) instanceof
                  dev.meshwork.kvstore.codec.Decoded.Value<SyncedCanary> v
              ? v.value()
              : null;
      assertThat(canary).isNotNull();
      assertThat(canary.getCluster()).isEqualTo(cluster);
      assertThat(canary.getKind()).isEqualTo(kind.segment());
    }
  }

  @Test
  void nodesRoundTrip() {
    String cluster = "rt-nodes";
    Node node =
        Node.newBuilder()
            .setCluster(cluster)
            .setName("node-a")
            .setClusterId(3)
            .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress("198.18.1.2"))
            .addPodCidrs("10.3.1.0/24")
            .build();
    roundTrip(cluster, Kind.NODES, Codecs.NODE, Map.of(layout.nodeKey(cluster, "node-a"), node));
  }

  @Test
  void servicesRoundTrip() {
    String cluster = "rt-services";
    ClusterService service =
        ClusterService.newBuilder()
            .setCluster(cluster)
            .setClusterId(3)
            .setNamespace("testing")
            .setName("backend-svc")
            .addFrontends(Frontend.newBuilder().setIp("10.100.3.165"))
            .addPorts(ServicePort.newBuilder().setName("http").setPort(80))
            .addBackends(
                Backend.newBuilder()
                    .setIp("10.2.1.214")
                    .putPorts("http", BackendPort.newBuilder().setPort(8080).build())
                    .setReady(true)
                    .setServing(true)
                    .setZone("z1")
                    .setNodeName("node-a"))
            .setShared(true)
            .setAffinity(Affinity.AFFINITY_LOCAL)
            .build();
    roundTrip(
        cluster,
        Kind.SERVICES,
        Codecs.SERVICE,
        Map.of(layout.serviceKey(cluster, "testing", "backend-svc"), service));
  }

  @Test
  void identitiesRoundTrip() {
    String cluster = "rt-identities";
    long id = (3L << 16) | 256;
    Identity identity =
        Identity.newBuilder()
            .setId((int) id)
            .setCluster(cluster)
            .addLabels("k8s:app=backend")
            .addLabels("k8s:io.kubernetes.pod.namespace=testing")
            .build();
    roundTrip(cluster, Kind.IDENTITIES, Codecs.IDENTITY, Map.of(layout.identityKey(cluster, id), identity));
  }

  @Test
  void ipcacheRoundTrip() {
    String cluster = "rt-ipcache";
    Map<String, IPCacheEntry> entries = new java.util.HashMap<>();
    for (int i = 1; i <= 50; i++) {
      String ip = "10.3.1." + i;
      entries.put(
          layout.ipcacheKey(cluster, ip),
          IPCacheEntry.newBuilder()
              .setIp(ip)
              .setIdentity((3 << 16) | 300)
              .setHostIp("198.18.1.2")
              .setNamespace("testing")
              .setPodName("pod-" + i)
              .setCluster(cluster)
              .build());
    }
    roundTrip(cluster, Kind.IPCACHE, Codecs.IPCACHE, entries);
  }
}
