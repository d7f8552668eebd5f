package dev.meshwork.kvstore.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.RecordingHandler;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A returning etcd is noticed within seconds, however long it was away: the connection keeps
 * gRPC's reconnect backoff short and tells the stores when it is connected again, so they do not
 * wait out retry backoffs that grew during the outage (up to 30 s for the stores, 120 s for gRPC).
 * The stores here use their production backoff.
 */
class EtcdOutageRecoveryIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  /** Long enough that the old backoffs were far beyond the bound below: 6-20 s after the return. */
  private static final Duration OUTAGE = Duration.ofSeconds(25);
  /** Not a timing target: a behaviour check, generous for a loaded machine. */
  private static final Duration RESUMED_WITHIN = Duration.ofSeconds(8);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final String CLUSTER = "outage";

  private final KeyLayout layout = KeyLayout.state();
  private EtcdConnection writerConnection;
  private EtcdConnection readerConnection;
  private SyncStore<IPCacheEntry> writer;
  private WatchStore<IPCacheEntry> reader;

  @BeforeEach
  void connect() {
    etcd.start();
    writerConnection = EtcdConnection.of("writer's etcd", EtcdClients.plain(endpoints()));
    readerConnection = EtcdConnection.of("reader's etcd", EtcdClients.plain(endpoints()));
  }

  @AfterEach
  void disconnect() {
    if (reader != null) {
      reader.close();
    }
    if (writer != null) {
      writer.close();
    }
    writerConnection.close();
    readerConnection.close();
  }

  private static List<URI> endpoints() {
    return List.of(URI.create(etcd.endpoint()));
  }

  private String key(String ip) {
    return layout.ipcacheKey(CLUSTER, ip);
  }

  private static IPCacheEntry entry(String ip) {
    return IPCacheEntry.newBuilder().setIp(ip).setIdentity(70000).setPodName("pod-" + ip).build();
  }

  @Test
  void aWriterAndAWatcherResumeWithinSecondsOfEtcdReturningFromALongOutage() {
    writer = SyncStore.builder(writerConnection, layout, CLUSTER, Kind.IPCACHE, Codecs.IPCACHE).build();
    writer.start();
    writer.upsert(key("10.0.0.1"), entry("10.0.0.1"));
    writer.synced();
    writer.canaryWritten().orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS).join();
    RecordingHandler<IPCacheEntry> seen = new RecordingHandler<>(IPCacheEntry::getPodName);
    reader = WatchStore.builder(readerConnection, layout.prefix(Kind.IPCACHE, CLUSTER), Codecs.IPCACHE, seen)
        .syncedCanary(layout.syncedKey(CLUSTER, Kind.IPCACHE))
        .build();
    reader.start();
    await().atMost(WAIT).until(() -> seen.view().containsKey(key("10.0.0.1")));

    etcd.stop();
    // A change made while etcd is away: the writer retries it for the whole outage.
    writer.upsert(key("10.0.0.2"), entry("10.0.0.2"));
    await().atMost(WAIT).until(() -> !reader.isWatching());
    sleep(OUTAGE);
    assertThat(writer.errors()).as("writes failed while etcd was down").isPositive();

    etcd.start();
    long back = System.nanoTime();
    await("the writer's put after etcd returned")
        .atMost(RESUMED_WITHIN)
        .pollInterval(Duration.ofMillis(50))
        .until(() -> etcd.get(key("10.0.0.2")).isPresent());
    Duration writerResumed = since(back);
    await("the watcher seeing the put after etcd returned")
        .atMost(RESUMED_WITHIN.minus(writerResumed))
        .pollInterval(Duration.ofMillis(50))
        .until(() -> seen.view().containsKey(key("10.0.0.2")) && reader.isWatching());
    Duration readerResumed = since(back);
    // The watch itself is back, not only a list: a later change arrives by it.
    etcd.put(key("10.0.0.3"), entry("10.0.0.3").toByteArray());
    await().atMost(WAIT).until(() -> seen.view().containsKey(key("10.0.0.3")));
    System.out.printf(
        "[outage-recovery] etcd down %d s; after it returned: writer's put in etcd %d ms, watcher has it %d ms%n",
        OUTAGE.toSeconds(), writerResumed.toMillis(), readerResumed.toMillis());
  }

  @Test
  void theReadinessOfAClientCountsItsConnectionsAndWakesAWaiterThatMissedOne() throws Exception {
    Client client = writerConnection.client();
    ChannelReadiness readiness = ChannelReadiness.of(client);
    long before = readiness.readyCount();
    client.getKVClient().put(bytes("readiness"), bytes("v")).get(10, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> readiness.readyCount() > before);

    AtomicBoolean woken = new AtomicBoolean();
    readiness.onReadyAfter(before, () -> woken.set(true));
    assertThat(woken).as("the channel connected after 'before': the waiter runs at once").isTrue();

    AtomicBoolean waiting = new AtomicBoolean();
    readiness.onReadyAfter(readiness.readyCount(), () -> waiting.set(true));
    assertThat(waiting).as("no reconnect yet").isFalse();
  }

  @Test
  void aWaiterRunsWhenItsClientIsClosedSoTheStoreMovesToTheConnectionsNextClient() throws Exception {
    Client client = EtcdClients.plain(endpoints());
    client.getKVClient().put(bytes("closing"), bytes("v")).get(10, TimeUnit.SECONDS);
    ChannelReadiness readiness = ChannelReadiness.of(client);
    AtomicBoolean woken = new AtomicBoolean();
    readiness.onReadyAfter(readiness.readyCount(), () -> woken.set(true));

    client.close();

    await().atMost(WAIT).untilTrue(woken);
  }

  @Test
  void aClientNotBuiltByEtcdClientsHasAReadinessThatNeverSignals() {
    try (Client plain = Client.builder().endpoints(etcd.endpoint()).build()) {
      ChannelReadiness readiness = ChannelReadiness.of(plain);
      AtomicBoolean woken = new AtomicBoolean();
      readiness.onReadyAfter(-1, () -> woken.set(true));
      assertThat(readiness).isSameAs(ChannelReadiness.none());
      assertThat(woken).isFalse();
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  private static Duration since(long nanos) {
    return Duration.ofNanos(System.nanoTime() - nanos);
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during the outage", e);
    }
  }
}
