package dev.meshwork.kvstore.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.RecordingHandler;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.SyncedCanary;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class WatchStoreIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  private static final Duration WAIT = Duration.ofSeconds(20);
  private final KeyLayout layout = KeyLayout.state();
  private EtcdConnection connection;
  private WatchStore<IPCacheEntry> store;

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

  private static byte[] entry(String ip, String version) {
    return Codecs.IPCACHE.encode(
        IPCacheEntry.newBuilder().setIp(ip).setIdentity(70000).setPodName(version).build());
  }

  private String key(String cluster, String ip) {
    return layout.ipcacheKey(cluster, ip);
  }

  private RecordingHandler<IPCacheEntry> recorder() {
    return new RecordingHandler<>(IPCacheEntry::getPodName);
  }

  private WatchStore.Builder<IPCacheEntry> builder(String cluster, RecordingHandler<IPCacheEntry> handler) {
    return WatchStore.builder(connection, layout.prefix(Kind.IPCACHE, cluster), Codecs.IPCACHE, handler)
        .backoff(new dev.meshwork.common.backoff.Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 2, 0.2));
  }

  @Test
  void resumesAfterAnEtcdRestartWithoutLosingOrDuplicatingEvents() {
    String c = "restart";
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    RecordingHandler<IPCacheEntry> seen = recorder();
    store = builder(c, seen).build();
    store.start();
    await().atMost(WAIT).until(store::isSynced);
    assertThat(seen.events())
        .containsExactly(
            "upsert " + key(c, "10.0.0.1") + " v1", "upsert " + key(c, "10.0.0.2") + " v1", "synced");
    seen.clear();

    etcd.stop();
    await().atMost(WAIT).until(() -> !store.isWatching());
    etcd.start();
    await().atMost(WAIT).until(() -> store.relists() >= 2 && store.isWatching());

    etcd.put(key(c, "10.0.0.3"), entry("10.0.0.3", "v1"));
    etcd.delete(key(c, "10.0.0.1"));
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v2"));
    await().atMost(WAIT).until(() -> seen.events().size() >= 3);
    assertThat(seen.events())
        .containsExactly(
            "upsert " + key(c, "10.0.0.3") + " v1",
            "delete " + key(c, "10.0.0.1"),
            "upsert " + key(c, "10.0.0.2") + " v2");

    // Another full relist finds nothing new: unchanged keys are not reported again.
    long relists = store.relists();
    store.relistNow();
    await().atMost(WAIT).until(() -> store.relists() > relists);
    assertThat(seen.events()).hasSize(3);
  }

  @Test
  void relistsWhenTheWatchRevisionWasCompactedAndReportsKeysDeletedMeanwhile() {
    String c = "compaction";
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    RecordingHandler<IPCacheEntry> seen = recorder();
    AtomicBoolean once = new AtomicBoolean();
    // Between the first list and its watch, history moves on and is compacted: the watch from
    // list revision + 1 is refused as compacted, which must lead to a relist.
    store =
        builder(c, seen)
            .beforeWatch(rev -> {
              if (once.compareAndSet(false, true)) {
                etcd.delete(key(c, "10.0.0.1"));
                etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v2"));
                etcd.put(key(c, "10.0.0.3"), entry("10.0.0.3", "v1"));
                assertThat(etcd.compact()).isGreaterThan(rev + 1);
              }
            })
            .build();
    store.start();
    await().atMost(WAIT).until(() -> store.relists() >= 2 && seen.events().size() >= 6);
    assertThat(seen.events())
        .containsExactly(
            "upsert " + key(c, "10.0.0.1") + " v1",
            "upsert " + key(c, "10.0.0.2") + " v1",
            "synced",
            "upsert " + key(c, "10.0.0.2") + " v2",
            "upsert " + key(c, "10.0.0.3") + " v1",
            "delete " + key(c, "10.0.0.1"));
    assertThat(seen.view()).containsOnlyKeys(key(c, "10.0.0.2"), key(c, "10.0.0.3"));
  }

  @Test
  void skipsAndCountsValuesThatDoNotDecodeAndDeliversTheRest() {
    String c = "corrupt";
    byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    etcd.put(key(c, "10.0.0.2"), garbage);
    etcd.put(key(c, "10.0.0.3"), entry("10.0.0.3", "v1"));
    RecordingHandler<IPCacheEntry> seen = recorder();
    store = builder(c, seen).build();
    store.start();
    await().atMost(WAIT).until(store::isSynced);
    assertThat(store.decodeFailures()).isEqualTo(1);
    assertThat(seen.view()).containsOnlyKeys(key(c, "10.0.0.1"), key(c, "10.0.0.3"));

    // Through the watch: a corrupt new key is skipped, a key that turns corrupt keeps its last
    // good value, and later keys still arrive.
    seen.clear();
    etcd.put(key(c, "10.0.0.4"), garbage);
    etcd.put(key(c, "10.0.0.1"), garbage);
    etcd.put(key(c, "10.0.0.5"), entry("10.0.0.5", "v1"));
    await().atMost(WAIT).until(() -> seen.events().size() >= 1);
    assertThat(seen.events()).containsExactly("upsert " + key(c, "10.0.0.5") + " v1");
    assertThat(store.decodeFailures()).isEqualTo(3);
    assertThat(seen.view().get(key(c, "10.0.0.1")).getPodName()).isEqualTo("v1");
  }

  @Test
  void rejectsPairsTheValidatorRefusesAndCountsThem() {
    String c = "validator";
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.9", "v1"));
    RecordingHandler<IPCacheEntry> seen = recorder();
    store =
        builder(c, seen)
            .keyValidator((k, v) -> k.endsWith("/" + v.getIp())
                ? Optional.empty()
                : Optional.of("ip field " + v.getIp() + " does not match the key"))
            .build();
    store.start();
    await().atMost(WAIT).until(store::isSynced);
    assertThat(seen.view()).containsOnlyKeys(key(c, "10.0.0.1"));
    assertThat(store.rejected()).isEqualTo(1);
  }

  @Test
  void keepsStaleKeysOfAWipedEtcdUntilItsSyncedCanaryIsBack() {
    String c = "gated";
    String canary = layout.syncedKey(c, Kind.IPCACHE);
    byte[] canaryValue =
        Codecs.SYNCED_CANARY.encode(SyncedCanary.newBuilder().setCluster(c).setKind("ipcache").build());
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    etcd.put(canary, canaryValue);
    RecordingHandler<IPCacheEntry> seen = recorder();
    store = builder(c, seen).syncedCanary(canary).build();
    store.start();
    await().atMost(WAIT).until(store::isSynced);
    seen.clear();

    long relists = store.relists();
    etcd.wipe();
    await().atMost(WAIT).until(() -> store.relists() > relists && store.isWatching());
    // The empty etcd has no canary: its (empty) list is not trusted, nothing is deleted.
    assertThat(seen.events()).isEmpty();
    assertThat(seen.view()).hasSize(2);

    // The writer comes back and writes its state, then its canary.
    etcd.put(key(c, "10.0.0.2"), entry("10.0.0.2", "v1"));
    etcd.put(canary, canaryValue);
    await().atMost(WAIT).until(() -> seen.events().contains("delete " + key(c, "10.0.0.1")));
    assertThat(seen.events())
        .containsExactly("upsert " + key(c, "10.0.0.2") + " v1", "delete " + key(c, "10.0.0.1"));
  }

  @Test
  void relistsPeriodicallyWithoutReportingUnchangedKeysAgain() {
    String c = "periodic";
    etcd.put(key(c, "10.0.0.1"), entry("10.0.0.1", "v1"));
    RecordingHandler<IPCacheEntry> seen = recorder();
    store = builder(c, seen).relistInterval(Duration.ofMillis(200)).build();
    store.start();
    await().atMost(WAIT).until(() -> store.relists() >= 4);
    assertThat(seen.events()).containsExactly("upsert " + key(c, "10.0.0.1") + " v1", "synced");
  }

  @Test
  void forKeyWatchesOneKeyNotItsNamesakes() {
    RecordingHandler<IPCacheEntry> seen = recorder();
    etcd.put("meshwork/v1/heartbeat/c1", entry("1.1.1.1", "c1"));
    etcd.put("meshwork/v1/heartbeat/c10", entry("1.1.1.1", "c10"));
    store = WatchStore.forKey(connection, "meshwork/v1/heartbeat/c1", Codecs.IPCACHE, seen).build();
    store.start();
    await().atMost(WAIT).until(store::isSynced);
    assertThat(seen.view()).containsOnlyKeys("meshwork/v1/heartbeat/c1");
  }
}
