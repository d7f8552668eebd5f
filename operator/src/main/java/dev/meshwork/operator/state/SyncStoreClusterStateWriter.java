package dev.meshwork.operator.state;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;

/**
 * The cluster state in etcd, one kvstore {@link SyncStore} per kind: coalesced, paced writes on
 * a lease, undesired keys deleted after the initial sync, synced canaries, and a full rewrite
 * when the etcd loses its data.
 */
public final class SyncStoreClusterStateWriter implements ClusterStateWriter, AutoCloseable {

  private final Map<Kind, SyncStore<Message>> stores = new EnumMap<>(Kind.class);
  private final KeyLayout layout;
  private final String cluster;

  /** Options shared by the four stores. */
  public record Options(double writesPerSecond, Duration leaseTtl, Duration dataLossCheckInterval) {}

  public SyncStoreClusterStateWriter(
      EtcdConnection etcd,
      KeyLayout layout,
      String cluster,
      Options options,
      MeterRegistry registry) {
    this.layout = layout;
    this.cluster = cluster;
    for (Kind kind : Kind.values()) {
      SyncStore<Message> store =
          SyncStore.builder(etcd, layout, cluster, kind, codec(kind))
              .writesPerSecond(options.writesPerSecond())
              .leaseTtl(options.leaseTtl())
              .dataLossCheckInterval(options.dataLossCheckInterval())
              .meterRegistry(registry)
              .name("operator " + kind.segment())
              .build();
      stores.put(kind, store);
      Gauge.builder("meshwork.operator.objects", store, SyncStore::desiredCount)
          .description("Objects of this kind the operator keeps in etcd")
          .tag("kind", kind.segment())
          .register(registry);
    }
  }

  @SuppressWarnings("unchecked")
  private static Codec<Message> codec(Kind kind) {
    return (Codec<Message>) kind.codec();
  }

  public void start() {
    stores.values().forEach(SyncStore::start);
  }

  @Override
  public void put(Kind kind, String name, Message value) {
    stores.get(kind).upsert(layout.prefix(kind, cluster) + name, value);
  }

  @Override
  public void delete(Kind kind, String name) {
    stores.get(kind).delete(layout.prefix(kind, cluster) + name);
  }

  @Override
  public void initialSyncDone(Kind kind) {
    stores.get(kind).synced();
  }

  /** The store of one kind, for status and tests. */
  public SyncStore<Message> store(Kind kind) {
    return stores.get(kind);
  }

  @Override
  public void close() {
    stores.values().forEach(SyncStore::close);
  }
}
