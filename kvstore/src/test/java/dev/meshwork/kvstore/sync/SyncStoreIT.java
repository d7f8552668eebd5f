package dev.meshwork.kvstore.sync;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.LeaseOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class SyncStoreIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Backoff FAST = new Backoff(Duration.ofMillis(50), Duration.ofMillis(500), 2, 0.2);
  private final KeyLayout layout = KeyLayout.state();
  private EtcdConnection connection;
  private SyncStore<IPCacheEntry> store;

  @BeforeEach
  void connect() {
    connection = EtcdConnection.of("test etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
  }

  @AfterEach
  void disconnect() {
    if (store != null) {
      store.close();
    }
    connection.close();
  }

  private SyncStore.Builder<IPCacheEntry> builder(String cluster) {
    return SyncStore.builder(connection, layout, cluster, Kind.IPCACHE, Codecs.IPCACHE).backoff(FAST);
  }

  private static IPCacheEntry entry(String ip, String version) {
    return IPCacheEntry.newBuilder().setIp(ip).setIdentity(70000).setPodName(version).build();
  }

  private String podNameIn(String key) {
    return etcd.get(key)
        .map(bytes -> {
          try {
            return IPCacheEntry.parseFrom(bytes).getPodName();
          } catch (Exception e) {
            return "corrupt";
          }
        })
        .orElse("absent");
  }

  @Test
  void rewritesAllDesiredKeysWhenEtcdLostItsData() {
    String c = "wiped";
    store = builder(c).dataLossCheckInterval(Duration.ofMillis(300)).build();
    store.start();
    for (int i = 1; i <= 20; i++) {
      store.upsert(layout.ipcacheKey(c, "10.0.0." + i), entry("10.0.0." + i, "v1"));
    }
    store.synced();
    store.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();
    long clusterId = etcd.clusterId();

    etcd.wipe();
    assertThat(etcd.clusterId()).isNotEqualTo(clusterId);
    assertThat(etcd.get(layout.ipcacheKey(c, "10.0.0.1"))).isEmpty();

    await().atMost(WAIT).until(() -> store.resyncs() >= 1 && store.canaryWritten().isDone());
    for (int i = 1; i <= 20; i++) {
      assertThat(podNameIn(layout.ipcacheKey(c, "10.0.0." + i))).isEqualTo("v1");
    }
    assertThat(etcd.get(store.canaryKey())).isPresent();
  }

  @Test
  void deletesKeysNoLongerDesiredOnlyAfterTheInitialSyncThenWritesTheCanary() {
    String c = "cleanup";
    String leftover = layout.ipcacheKey(c, "10.0.9.9");
    etcd.put(leftover, Codecs.IPCACHE.encode(entry("10.0.9.9", "old")));
    etcd.put(layout.ipcacheKey(c, "10.0.0.1"), Codecs.IPCACHE.encode(entry("10.0.0.1", "old")));
    String otherCluster = layout.ipcacheKey("cleanup-other", "10.0.9.9");
    etcd.put(otherCluster, Codecs.IPCACHE.encode(entry("10.0.9.9", "other")));

    store = builder(c).build();
    store.start();
    store.upsert(layout.ipcacheKey(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    store.upsert(layout.ipcacheKey(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    await().atMost(WAIT).until(() -> podNameIn(layout.ipcacheKey(c, "10.0.0.2")).equals("v1"));
    assertThat(podNameIn(leftover)).as("not deleted before synced()").isEqualTo("old");
    assertThat(etcd.get(store.canaryKey())).isEmpty();

    store.synced();
    store.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();
    assertThat(podNameIn(leftover)).isEqualTo("absent");
    assertThat(podNameIn(layout.ipcacheKey(c, "10.0.0.1"))).isEqualTo("v1");
    assertThat(podNameIn(otherCluster)).as("another cluster's prefix is untouched").isEqualTo("other");
  }

  @Test
  void writesAThousandKeysQueuedBeforeStartInEightTransactions() throws Exception {
    String c = "batched";
    store = builder(c).build();
    for (int i = 0; i < 1000; i++) {
      String ip = "10.0." + (i / 250) + "." + (i % 250 + 1);
      store.upsert(layout.ipcacheKey(c, ip), entry(ip, "v1"));
    }
    store.start();
    store.synced();
    store.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();

    var written = connection.client().getKVClient()
        .get(ByteSequence.from(store.prefix(), StandardCharsets.UTF_8),
            io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS).getKvs();
    assertThat(written).hasSize(1000).allSatisfy(kv -> assertThat(kv.getLease()).isNotZero());
    assertThat(store.writes()).isEqualTo(1000);
    assertThat(store.transactions()).as("1000 keys in transactions of at most 128").isEqualTo(8);
  }

  @Test
  void aValueTooLargeForEtcdIsRetriedAloneWhileTheOtherKeysAreWritten() {
    String c = "oversized";
    store = builder(c).build();
    String huge = layout.ipcacheKey(c, "10.0.0.100");
    // etcd refuses requests above 1.5 MiB.
    store.upsert(huge, entry("10.0.0.100", "x".repeat(2 * 1024 * 1024)));
    for (int i = 1; i <= 50; i++) {
      store.upsert(layout.ipcacheKey(c, "10.0.0." + i), entry("10.0.0." + i, "v1"));
    }
    store.start();
    await().atMost(WAIT).until(() -> store.errors() >= 2);
    for (int i = 1; i <= 50; i++) {
      assertThat(podNameIn(layout.ipcacheKey(c, "10.0.0." + i))).isEqualTo("v1");
    }
    assertThat(podNameIn(huge)).isEqualTo("absent");
    assertThat(store.writes()).as("the 50 others, never held up by the refused one").isEqualTo(50);
  }

  @Test
  void coalescesWritesPerKeySoOnlyTheLatestValueIsWritten() {
    String c = "coalesce";
    store = builder(c).writesPerSecond(10).build();
    String key = layout.ipcacheKey(c, "10.0.0.1");
    for (int i = 1; i <= 200; i++) {
      store.upsert(key, entry("10.0.0.1", "v" + i));
    }
    store.start();
    await().atMost(WAIT).until(() -> podNameIn(key).equals("v200"));
    await().atMost(WAIT).until(() -> store.queueDepth() == 0);
    assertThat(store.writes()).isLessThan(5);
  }

  @Test
  void writesKeysOnALeaseThatIsKeptAlive() throws Exception {
    String c = "lease";
    store = builder(c).leaseTtl(Duration.ofSeconds(5)).build();
    store.start();
    String key = layout.ipcacheKey(c, "10.0.0.1");
    store.upsert(key, entry("10.0.0.1", "v1"));
    await().atMost(WAIT).until(() -> podNameIn(key).equals("v1"));
    KeyValue kv =
        connection.client().getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8)).get().getKvs().getFirst();
    assertThat(kv.getLease()).isNotZero();
    // Kept alive: the remaining TTL goes back up instead of running down to expiry.
    long first = remainingTtl(kv.getLease());
    await().atMost(WAIT).until(() -> remainingTtl(kv.getLease()) < first);
    await().atMost(WAIT).until(() -> remainingTtl(kv.getLease()) >= first);
    assertThat(podNameIn(key)).isEqualTo("v1");
  }

  private long remainingTtl(long lease) throws Exception {
    return connection.client().getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT).get().getTTL();
  }

  @Test
  void keysVanishWhenTheWriterStopsKeepingItsLeaseAlive() {
    String c = "dies";
    store = builder(c).leaseTtl(Duration.ofSeconds(5)).build();
    store.start();
    String key = layout.ipcacheKey(c, "10.0.0.1");
    store.upsert(key, entry("10.0.0.1", "v1"));
    store.synced();
    store.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();
    store.close(); // like a crash: no revoke, no deletes, the keep-alive just stops
    store = null;
    await().atMost(WAIT).until(() -> podNameIn(key).equals("absent"));
    assertThat(etcd.get(layout.syncedKey(c, Kind.IPCACHE))).as("the canary goes with the lease").isEmpty();
  }

  @Test
  void deletesAKeyThatIsNoLongerDesired() {
    String c = "delete";
    store = builder(c).build();
    store.start();
    String key = layout.ipcacheKey(c, "10.0.0.1");
    store.upsert(key, entry("10.0.0.1", "v1"));
    await().atMost(WAIT).until(() -> podNameIn(key).equals("v1"));
    store.delete(key);
    await().atMost(WAIT).until(() -> podNameIn(key).equals("absent"));
  }

  @Test
  void retriesWritesThatFailWhileEtcdIsDown() {
    String c = "retry";
    store = builder(c).build();
    store.start();
    store.upsert(layout.ipcacheKey(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    await().atMost(WAIT).until(() -> podNameIn(layout.ipcacheKey(c, "10.0.0.1")).equals("v1"));
    etcd.stop();
    store.upsert(layout.ipcacheKey(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    await().atMost(WAIT).until(() -> store.errors() > 0);
    etcd.start();
    await().atMost(WAIT).until(() -> podNameIn(layout.ipcacheKey(c, "10.0.0.2")).equals("v1"));
  }

  @Test
  void rejectsKeysOutsideItsPrefixAndAMismatchedCodec() {
    store = builder("prefix").build();
    assertThatThrownBy(() -> store.upsert(layout.ipcacheKey("other", "10.0.0.1"), entry("10.0.0.1", "v")))
        .hasMessageContaining("is not under the prefix meshwork/v1/state/ipcache/prefix/");
    assertThatThrownBy(() -> SyncStore.builder(connection, layout, "prefix", Kind.NODES, Codecs.IPCACHE))
        .hasMessageContaining("does not match kind nodes");
    assertThatThrownBy(() -> SyncStore.builder(connection, layout, "Bad_Name", Kind.NODES, Codecs.NODE))
        .hasMessageContaining("invalid cluster name \"Bad_Name\"");
  }
}
