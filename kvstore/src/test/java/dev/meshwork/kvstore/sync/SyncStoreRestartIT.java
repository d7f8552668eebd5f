package dev.meshwork.kvstore.sync;

import static org.assertj.core.api.Assertions.assertThat;
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
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A writer SIGKILLed and started again (or a new leader taking over): its successor keeps the
 * previous lease alive until it has rewritten the whole state, so readers see no gap even when
 * that takes longer than the lease TTL.
 */
class SyncStoreRestartIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration TTL = Duration.ofSeconds(5);
  /** How long the restarted owner takes to deliver its initial state: longer than the TTL. */
  private static final long SLOW_START_MILLIS = 8_000;
  private static final Backoff FAST = new Backoff(Duration.ofMillis(50), Duration.ofMillis(500), 2, 0.2);
  private final KeyLayout layout = KeyLayout.state();
  private final List<AutoCloseable> toClose = new ArrayList<>();
  private EtcdConnection connection;

  @BeforeEach
  void connect() {
    connection = EtcdConnection.of("test etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
  }

  @AfterEach
  void disconnect() throws Exception {
    for (AutoCloseable c : toClose.reversed()) {
      c.close();
    }
    connection.close();
  }

  private SyncStore<IPCacheEntry> store(String cluster) {
    SyncStore<IPCacheEntry> store =
        SyncStore.builder(connection, layout, cluster, Kind.IPCACHE, Codecs.IPCACHE)
            .leaseTtl(TTL)
            .backoff(FAST)
            .build();
    toClose.add(store);
    return store;
  }

  private static IPCacheEntry entry(String ip, String version) {
    return IPCacheEntry.newBuilder().setIp(ip).setIdentity(70000).setPodName(version).build();
  }

  private String ip(int i) {
    return "10.0.0." + i;
  }

  /** A writer that wrote keys 1..keys and its canary, then died without revoking its lease. */
  private long killedWriter(String cluster, int keys) {
    SyncStore<IPCacheEntry> old = store(cluster);
    old.start();
    for (int i = 1; i <= keys; i++) {
      old.upsert(layout.ipcacheKey(cluster, ip(i)), entry(ip(i), "v1"));
    }
    old.synced();
    old.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();
    long lease = kv(layout.ipcacheKey(cluster, ip(1))).getLease();
    old.close(); // like SIGKILL: no revoke, no deletes, the keep-alive just stops
    return lease;
  }

  /** Records the keys deleted under {@code prefix} (exactly, or as a prefix). */
  private List<String> deletionsOf(String key, boolean isPrefix, Map<String, Boolean> seen) {
    List<String> deleted = new CopyOnWriteArrayList<>();
    Watch.Watcher watcher = connection.client().getWatchClient().watch(
        bytes(key),
        WatchOption.builder().isPrefix(isPrefix).build(),
        response -> {
          for (WatchEvent event : response.getEvents()) {
            String k = event.getKeyValue().getKey().toString(StandardCharsets.UTF_8);
            seen.put(k, true);
            if (event.getEventType() == WatchEvent.EventType.DELETE) {
              deleted.add(k);
            }
          }
        });
    toClose.add(watcher);
    return deleted;
  }

  private KeyValue kv(String key) {
    try {
      List<KeyValue> kvs = connection.client().getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.getFirst();
    } catch (Exception e) {
      throw new AssertionError("reading " + key, e);
    }
  }

  private long remainingTtl(long lease) throws Exception {
    return connection.client().getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)
        .get(10, TimeUnit.SECONDS).getTTL();
  }

  private List<KeyValue> keysUnder(String prefix) throws Exception {
    return connection.client().getKVClient()
        .get(bytes(prefix), GetOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS).getKvs();
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void aRestartSlowerThanTheLeaseTtlKeepsEveryKeyUntilItIsRewrittenOnTheNewLease() throws Exception {
    String c = "restart";
    String canary = layout.syncedKey(c, Kind.IPCACHE);
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    List<String> deleted = deletionsOf(layout.prefix(Kind.IPCACHE, c), true, seen);
    List<String> canaryDeleted = deletionsOf(canary, false, seen);

    long oldLease = killedWriter(c, 6);
    await().atMost(WAIT).until(() -> seen.containsKey(canary) && seen.size() == 7);

    SyncStore<IPCacheEntry> restarted = store(c);
    restarted.start();
    // The owner's informers take longer than the TTL to deliver the state.
    Thread.sleep(SLOW_START_MILLIS);
    assertThat(remainingTtl(oldLease)).as("the previous lease is kept alive").isPositive();
    assertThat(deleted).as("no key expired while the restarted owner was starting").isEmpty();
    assertThat(canaryDeleted).isEmpty();

    // Keys 1..5 are still desired (1 with a new value, 2..5 equal), key 6 is not any more.
    restarted.upsert(layout.ipcacheKey(c, ip(1)), entry(ip(1), "v2"));
    for (int i = 2; i <= 5; i++) {
      restarted.upsert(layout.ipcacheKey(c, ip(i)), entry(ip(i), "v1"));
    }
    restarted.synced();
    restarted.canaryWritten().orTimeout(20, TimeUnit.SECONDS).join();

    long newLease = kv(canary).getLease();
    assertThat(newLease).isNotZero().isNotEqualTo(oldLease);
    List<KeyValue> left = keysUnder(layout.prefix(Kind.IPCACHE, c));
    assertThat(left).hasSize(5)
        .as("every desired key is on the new lease, equal values too")
        .allSatisfy(kv -> assertThat(kv.getLease()).isEqualTo(newLease));
    assertThat(IPCacheEntry.parseFrom(kv(layout.ipcacheKey(c, ip(1))).getValue().getBytes()).getPodName())
        .isEqualTo("v2");
    assertThat(deleted).as("only the key no longer desired was deleted")
        .containsExactly(layout.ipcacheKey(c, ip(6)));
    assertThat(canaryDeleted).as("the canary was overwritten, never deleted").isEmpty();

    // The previous lease is no longer kept alive: it runs out, taking nothing desired with it.
    await().atMost(WAIT).until(() -> remainingTtl(oldLease) < 0);
    assertThat(keysUnder(layout.prefix(Kind.IPCACHE, c))).hasSize(5);
    assertThat(kv(canary)).isNotNull();
    assertThat(deleted).containsExactly(layout.ipcacheKey(c, ip(6)));
  }

  @Test
  void thePreviousKeysStayUntilTheInitialSyncAndExpireWhenTheRestartedWriterDiesToo() throws Exception {
    String c = "crashloop";
    long oldLease = killedWriter(c, 3);

    SyncStore<IPCacheEntry> restarted = store(c);
    restarted.start();
    Thread.sleep(SLOW_START_MILLIS);
    assertThat(keysUnder(layout.prefix(Kind.IPCACHE, c))).as("bridged, never synced yet").hasSize(3)
        .allSatisfy(kv -> assertThat(kv.getLease()).isEqualTo(oldLease));
    assertThat(kv(layout.syncedKey(c, Kind.IPCACHE))).isNotNull();

    restarted.close(); // dies before its initial sync: nobody keeps the previous lease alive now
    await().atMost(WAIT).until(() -> remainingTtl(oldLease) < 0);
    assertThat(keysUnder(layout.prefix(Kind.IPCACHE, c))).isEmpty();
    assertThat(kv(layout.syncedKey(c, Kind.IPCACHE))).isNull();
  }
}
