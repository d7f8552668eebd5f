package dev.meshwork.kvstore.sync;

import com.google.protobuf.Message;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.ChannelReadiness;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.settings.PositiveDuration;
import dev.meshwork.proto.v1.SyncedCanary;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.LeaseOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the desired state of one kind of one cluster ({@code <state-prefix><kind>/<cluster>/})
 * to etcd and keeps it there.
 *
 * <p>The owner tells it what should exist ({@link #upsert}, {@link #delete}) and, once it has
 * upserted its whole initial state, calls {@link #synced()}. The store then:
 *
 * <ul>
 *   <li>coalesces writes per key: only the latest desired value of a key is written;
 *   <li>writes the keys waiting at one time together, up to 128 per etcd transaction, so that
 *       a large initial state costs one round trip per 128 keys, not one per key;
 *   <li>paces writes ({@link Builder#writesPerSecond}) and retries a failed key with its own
 *       exponential backoff, without holding up other keys; when the connection to etcd comes
 *       back ({@link ChannelReadiness}), every key in backoff is retried at once and the lease is
 *       checked, instead of waiting out backoffs that grew during the outage;
 *   <li>writes every key on one lease that it keeps alive, so the keys vanish when the writer
 *       dies;
 *   <li>bridges a previous writer's leases: at start it lists the keys under its prefix and its
 *       canary, and keeps the (other) leases they are on alive until its own initial sync is
 *       written (see below). A writer that was SIGKILLed leaves its keys on a lease nobody renews;
 *       without the bridge they would expire if its successor (a restart, or a new leader) takes
 *       longer than the TTL to learn and rewrite its whole state, and readers would drop
 *       everything for a moment. Leases already gone are ignored;
 *   <li>after {@link #synced()} and once everything desired is written, deletes keys under its
 *       prefix that are no longer desired (left by a previous run), then writes the synced canary
 *       {@code <synced-prefix><cluster>/<kind>} (also on the lease);
 *   <li>checks periodically ({@link Builder#dataLossCheckInterval}) that the etcd still has its
 *       data: lease gone, canary gone or etcd cluster id changed means the etcd lost its data (or
 *       is another etcd), and everything is rewritten on a new lease, canary last.
 * </ul>
 *
 * <p>The initial sync puts every desired key again, equal value or not, so once the canary is
 * written no desired key is left on a previous lease, and the keys that are no longer desired
 * have been deleted: the store then stops keeping the previous leases alive and lets them expire
 * (it does not revoke them, which would delete whatever is still attached). Until then the
 * previous writer's keys stay, however long the owner takes to call {@link #synced()}, as they
 * would had the previous writer kept running.
 *
 * <p>{@link #close()} stops writing but does not revoke the lease: a writer that restarts or a
 * new leader keeps it alive until it has rewritten the keys, so readers see no gap. The
 * data-loss check looks only at the store's own lease, never at a bridged one.
 *
 * @param <T> the value type
 */
public final class SyncStore<T extends Message> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SyncStore.class);
  /** Transactions in flight at once. */
  private static final int MAX_IN_FLIGHT = 64;
  /** Keys per transaction: etcd refuses more than --max-txn-ops (default 128) operations. */
  static final int MAX_KEYS_PER_TXN = 128;
  /** Bytes of keys and values per transaction, well below etcd's 1.5 MiB request limit. */
  static final int MAX_BYTES_PER_TXN = 512 * 1024;
  private static final int LIST_PAGE = 10_000;
  private static final Duration OP_TIMEOUT = Duration.ofSeconds(15);

  private final EtcdConnection connection;
  private final String prefix;
  private final String canaryKey;
  private final String cluster;
  private final Kind kind;
  private final Codec<T> codec;
  private final Duration leaseTtl;
  private final Duration checkInterval;
  private final InstantSource clock;
  private final long nanosPerWrite;
  private final Backoff backoff;
  private final String name;

  private final Map<String, byte[]> desired = new ConcurrentHashMap<>();
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  // Guarded by lock.
  private final LinkedHashSet<String> pending = new LinkedHashSet<>();
  private final Set<String> inFlight = new HashSet<>();
  private final Map<String, Integer> attempts = new HashMap<>();
  /** Keys waiting for a retry, with the attempt their retry timer is for. */
  private final Map<String, Integer> backingOff = new HashMap<>();
  /** Retries everything in backoff when the connection comes back; null if none is registered. */
  private ChannelReadiness.Wakeup wakeup;
  /** When the owner last changed each key not yet taken for writing (System.nanoTime()). */
  private final Map<String, Long> changedAt = new HashMap<>();
  private boolean syncRequested;
  private boolean cleanupDone;
  private boolean finishing;
  private long leaseId;
  private boolean closed;

  private final Semaphore inFlightPermits = new Semaphore(MAX_IN_FLIGHT);
  private final ScheduledExecutorService control;
  private final Thread worker;
  private final Counter writes;
  private final Counter errors;
  private final Timer writeLatency;
  /** changedAt of the keys in flight. Guarded by lock. */
  private final Map<String, Long> batchChangedAt = new HashMap<>();
  private final AtomicLong writeCount = new AtomicLong();
  private final AtomicLong errorCount = new AtomicLong();
  private final AtomicLong resyncCount = new AtomicLong();
  private final AtomicLong transactionCount = new AtomicLong();
  private volatile CompletableFuture<Void> canaryWritten = new CompletableFuture<>();
  private long nextPermitNanos;

  // Confined to the control thread.
  private CloseableClient keepAlive;
  private Client keepAliveOn;
  private volatile boolean keepAliveBroken;
  private long etcdClusterId;
  /** Leases of a previous writer kept alive until the initial sync is written. */
  private final Set<Long> bridged = new LinkedHashSet<>();
  /** Shortest TTL granted to a bridged lease, in seconds; the keep-alive runs at a third of it. */
  private long bridgedTtlSeconds;
  private ScheduledFuture<?> bridgeKeepAlive;
  /** The initial sync is written: previous leases are not (or no longer) bridged. */
  private boolean bridgeEnded;

  private SyncStore(Builder<T> b) {
    this.connection = b.connection;
    this.cluster = KeyLayout.checkCluster(b.cluster);
    this.kind = b.kind;
    this.prefix = b.layout.prefix(kind, cluster);
    this.canaryKey = b.layout.syncedKey(cluster, kind);
    this.codec = b.codec;
    this.leaseTtl = b.leaseTtl;
    this.checkInterval = b.checkInterval;
    this.clock = b.clock;
    this.backoff = b.backoff;
    this.nanosPerWrite = (long) (1_000_000_000L / b.writesPerSecond);
    this.name = b.name != null ? b.name : "sync " + prefix;
    this.control =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "syncstore-control " + name);
              t.setDaemon(true);
              return t;
            });
    this.worker = new Thread(this::writeLoop, "syncstore-writer " + name);
    this.worker.setDaemon(true);
    MeterRegistry registry = b.registry;
    this.writes =
        Counter.builder("meshwork.kvstore.sync.writes")
            .description("successful puts and deletes")
            .tag("store", name)
            .register(registry);
    this.errors =
        Counter.builder("meshwork.kvstore.sync.errors")
            .description("failed puts and deletes (each is retried)")
            .tag("store", name)
            .register(registry);
    this.writeLatency =
        Timer.builder("meshwork.kvstore.sync.write.latency")
            .description("from the owner's upsert or delete of a key to etcd acknowledging its write")
            .tag("store", name)
            .publishPercentiles(0.5, 0.9, 0.99)
            .publishPercentileHistogram()
            .register(registry);
    Gauge.builder("meshwork.kvstore.sync.queue.depth", this, SyncStore::queueDepth)
        .description("keys waiting to be written, in flight or in backoff")
        .tag("store", name)
        .register(registry);
  }

  /**
   * A builder for the store of {@code kind} of {@code cluster} in {@code layout}; {@code codec}
   * must be the codec of {@code kind}.
   *
   * @throws IllegalArgumentException if the cluster name is invalid or the codec does not match
   */
  public static <T extends Message> Builder<T> builder(
      EtcdConnection connection, KeyLayout layout, String cluster, Kind kind, Codec<T> codec) {
    return new Builder<>(connection, layout, cluster, kind, codec);
  }

  /** The prefix this store owns, e.g. {@code meshwork/v1/state/nodes/c1/}. */
  public String prefix() {
    return prefix;
  }

  /** The synced canary this store writes, e.g. {@code meshwork/v1/synced/c1/nodes}. */
  public String canaryKey() {
    return canaryKey;
  }

  /**
   * Starts writing in the background: grants the lease, bridges the previous writer's leases,
   * then writes what is desired.
   */
  public void start() {
    worker.start();
    control.execute(() -> renewLease("start"));
    control.execute(this::bridgePreviousLeases);
    control.scheduleWithFixedDelay(
        this::checkForDataLoss,
        checkInterval.toMillis(),
        checkInterval.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  /**
   * Desires {@code key} (under {@link #prefix()}) to hold {@code value}; writes it soon unless a
   * newer value replaces it first.
   *
   * @throws IllegalArgumentException if the key is not under this store's prefix
   */
  public void upsert(String key, T value) {
    checkKey(key);
    byte[] bytes = codec.encode(Objects.requireNonNull(value, "value"));
    byte[] old = desired.put(key, bytes);
    if (old == null || !java.util.Arrays.equals(old, bytes)) {
      enqueue(key);
    }
  }

  /**
   * Desires {@code key} not to exist; deletes it soon.
   *
   * @throws IllegalArgumentException if the key is not under this store's prefix
   */
  public void delete(String key) {
    checkKey(key);
    if (desired.remove(key) != null) {
      enqueue(key);
    }
  }

  /**
   * Tells the store that the owner has upserted its whole initial state. Once that is written,
   * the store deletes undesired keys under its prefix and writes the synced canary.
   */
  public void synced() {
    lock.lock();
    try {
      syncRequested = true;
    } finally {
      lock.unlock();
    }
    maybeFinishSync();
  }

  /** Completes when the synced canary has been written (again after a resync). */
  public CompletableFuture<Void> canaryWritten() {
    return canaryWritten;
  }

  /** Keys desired now. */
  public int desiredCount() {
    return desired.size();
  }

  /** Keys waiting to be written, being written, or waiting for a retry. */
  public int queueDepth() {
    lock.lock();
    try {
      return pending.size() + inFlight.size() + backingOff.size();
    } finally {
      lock.unlock();
    }
  }

  /** Successful puts and deletes since start. */
  public long writes() {
    return writeCount.get();
  }

  /** Failed puts and deletes since start (each was retried). */
  public long errors() {
    return errorCount.get();
  }

  /** Write transactions sent since start (each carries up to 128 puts and deletes). */
  public long transactions() {
    return transactionCount.get();
  }

  /** How many times everything was rewritten because the etcd lost its data. */
  public long resyncs() {
    return resyncCount.get();
  }

  /**
   * Stops writing (again: a no-op). The lease is not revoked: keys stay until it expires (see
   * class doc).
   */
  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      if (wakeup != null) {
        wakeup.cancel();
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    worker.interrupt();
    CompletableFuture.runAsync(
            () -> {
              if (keepAlive != null) {
                keepAlive.close();
              }
            },
            control)
        .orTimeout(5, TimeUnit.SECONDS)
        .exceptionally(e -> null)
        .join();
    control.shutdownNow();
  }

  // ---- queue ----

  private void checkKey(String key) {
    Objects.requireNonNull(key, "key");
    if (!key.startsWith(prefix) || key.length() == prefix.length()) {
      throw new IllegalArgumentException(
          "key '" + key + "' is not under the prefix " + prefix + " of " + name);
    }
  }

  private void enqueue(String key) {
    long now = System.nanoTime();
    lock.lock();
    try {
      changedAt.putIfAbsent(key, now);
      pending.add(key);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The first pending key not already being written; null if none. Holds lock. */
  private String nextReady() {
    for (String key : pending) {
      if (!inFlight.contains(key)) {
        return key;
      }
    }
    return null;
  }

  /**
   * Moves up to {@link #MAX_KEYS_PER_TXN} pending keys that are not being written (and about
   * {@link #MAX_BYTES_PER_TXN} of values) from pending to in flight, oldest first. A key whose
   * last write failed goes alone, so that a key etcd refuses never holds up the others. Holds
   * lock.
   */
  private List<String> takeReady() {
    List<String> batch = new ArrayList<>();
    long bytes = 0;
    for (var it = pending.iterator(); it.hasNext() && batch.size() < MAX_KEYS_PER_TXN; ) {
      String key = it.next();
      if (inFlight.contains(key)) {
        continue;
      }
      boolean failedBefore = attempts.containsKey(key);
      if (failedBefore && !batch.isEmpty()) {
        continue;
      }
      byte[] value = desired.get(key);
      long size = key.length() + (value == null ? 0 : value.length);
      if (!batch.isEmpty() && bytes + size > MAX_BYTES_PER_TXN) {
        break;
      }
      bytes += size;
      it.remove();
      inFlight.add(key);
      batch.add(key);
      Long since = changedAt.remove(key);
      if (since != null) {
        batchChangedAt.put(key, since);
      }
      if (failedBefore) {
        break;
      }
    }
    return batch;
  }

  private void writeLoop() {
    try {
      while (true) {
        List<String> batch;
        long lease;
        lock.lock();
        try {
          while (!closed && (leaseId == 0 || nextReady() == null)) {
            changed.await();
          }
          if (closed) {
            return;
          }
          batch = takeReady();
          lease = leaseId;
        } finally {
          lock.unlock();
        }
        pace(batch.size());
        inFlightPermits.acquire();
        write(batch, lease);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Paces writes to the configured rate of keys (this is the writer's own thread, so it may
   * sleep): a batch of n keys waits until the n keys before it have had their turn.
   */
  private void pace(int keys) throws InterruptedException {
    long now = System.nanoTime();
    long wait = nextPermitNanos - now;
    if (wait > 0) {
      TimeUnit.NANOSECONDS.sleep(wait);
    }
    nextPermitNanos = Math.max(now, nextPermitNanos) + keys * nanosPerWrite;
  }

  /**
   * Writes the keys' current desired values (put on the lease, or delete) in one transaction
   * without conditions: one round trip and one etcd commit for the whole batch. The keys are
   * distinct, and a key is never in two batches in flight, so order between batches does not
   * matter.
   */
  private void write(List<String> batch, long lease) {
    CompletableFuture<?> op;
    ChannelReadiness readiness = ChannelReadiness.none();
    long readySeen = 0;
    try {
      Client client = connection.client();
      readiness = ChannelReadiness.of(client);
      readySeen = readiness.readyCount();
      PutOption onLease = PutOption.builder().withLeaseId(lease).build();
      Op[] ops = new Op[batch.size()];
      for (int i = 0; i < ops.length; i++) {
        String key = batch.get(i);
        byte[] value = desired.get(key);
        ops[i] =
            value != null
                ? Op.put(bytes(key), ByteSequence.from(value), onLease)
                : Op.delete(bytes(key), DeleteOption.DEFAULT);
      }
      op = client.getKVClient().txn().Then(ops).commit();
    } catch (RuntimeException e) {
      op = CompletableFuture.failedFuture(e);
    }
    ChannelReadiness usedReadiness = readiness;
    long usedReadySeen = readySeen;
    op.orTimeout(OP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((ok, error) -> written(batch, error, usedReadiness, usedReadySeen));
  }

  private void written(List<String> batch, Throwable error, ChannelReadiness readiness, long readySeen) {
    inFlightPermits.release();
    boolean leaseLost = false;
    lock.lock();
    try {
      inFlight.removeAll(batch);
      transactionCount.incrementAndGet();
      long now = System.nanoTime();
      if (error == null) {
        for (String key : batch) {
          attempts.remove(key);
          Long since = batchChangedAt.remove(key);
          if (since != null) {
            writeLatency.record(now - since, TimeUnit.NANOSECONDS);
          }
        }
        writeCount.addAndGet(batch.size());
        writes.increment(batch.size());
      } else {
        errorCount.addAndGet(batch.size());
        errors.increment(batch.size());
        leaseLost = String.valueOf(error.getMessage()).contains("lease not found");
        for (String key : batch) {
          Long since = batchChangedAt.remove(key);
          if (since != null) {
            changedAt.merge(key, since, Math::min); // a retried key's latency includes its failures
          }
          int attempt = attempts.merge(key, 1, Integer::sum);
          Duration delay = backoff.delay(attempt);
          backingOff.put(key, attempt);
          if (key == batch.getFirst()) {
            LOG.warn("{}: writing {} keys from {} failed (attempt {}), retrying in {} ms: {}",
                name, batch.size(), key, attempt, delay.toMillis(), error.toString());
          }
          if (!closed) {
            control.schedule(() -> retryKey(key, attempt), delay.toMillis(), TimeUnit.MILLISECONDS);
          }
        }
        retryAllWhenReconnected(readiness, readySeen);
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (leaseLost && !closed) {
      control.execute(this::checkForDataLoss);
    }
    maybeFinishSync();
  }

  /** The retry timer of {@code key}'s failed {@code attempt}; a no-op if it was retried since. */
  private void retryKey(String key, int attempt) {
    lock.lock();
    try {
      if (backingOff.remove(key, attempt)) {
        pending.add(key);
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Asks the connection to retry every key in backoff, and check the lease, once it has
   * connected again after {@code readySeen} (the ready count before the call that failed).
   * Holds lock.
   */
  private void retryAllWhenReconnected(ChannelReadiness readiness, long readySeen) {
    if (wakeup == null && !closed) {
      wakeup = readiness.onReadyAfter(readySeen, () -> onControlThread(this::reconnected));
    }
  }

  /** The connection is back: what waits for a retry goes now, and the lease is checked. */
  private void reconnected() {
    int keys;
    lock.lock();
    try {
      wakeup = null;
      keys = backingOff.size();
      pending.addAll(backingOff.keySet());
      backingOff.clear();
      // Failures while etcd was away say nothing about the keys: they go in full batches again.
      attempts.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    LOG.info("{}: {} reachable again, retrying {} keys now", name, connection.name(), keys);
    maybeFinishSync();
    checkForDataLoss(); // also restarts a lease keep-alive that broke during the outage
  }

  private void onControlThread(Runnable task) {
    try {
      control.execute(task);
    } catch (RejectedExecutionException e) {
      LOG.debug("{}: closed, not running {}", name, task);
    }
  }


  // ---- initial sync: cleanup, then canary ----

  private void maybeFinishSync() {
    lock.lock();
    try {
      if (closed
          || !syncRequested
          || finishing
          || canaryWritten.isDone()
          || leaseId == 0
          || !pending.isEmpty()
          || !inFlight.isEmpty()
          || !backingOff.isEmpty()) {
        return;
      }
      finishing = true;
    } finally {
      lock.unlock();
    }
    control.execute(this::finishSync);
  }

  private void finishSync() {
    boolean cleanup;
    long lease;
    lock.lock();
    try {
      cleanup = !cleanupDone;
      lease = leaseId;
    } finally {
      lock.unlock();
    }
    try {
      Client client = connection.client();
      if (cleanup) {
        int undesired = enqueueUndesired(client);
        lock.lock();
        try {
          cleanupDone = true;
          finishing = false;
        } finally {
          lock.unlock();
        }
        if (undesired > 0) {
          LOG.info("{}: deleting {} keys that are no longer desired", name, undesired);
        }
        maybeFinishSync(); // with nothing to delete this goes straight on to the canary
        return;
      }
      SyncedCanary canary =
          SyncedCanary.newBuilder()
              .setCluster(cluster)
              .setKind(kind.segment())
              .setTimestampMillis(clock.millis())
              .build();
      client.getKVClient()
          .put(bytes(canaryKey), ByteSequence.from(Codecs.SYNCED_CANARY.encode(canary)),
              PutOption.builder().withLeaseId(lease).build())
          .get(10, TimeUnit.SECONDS);
      LOG.info("{}: initial sync complete, wrote {}", name, canaryKey);
      endBridge(lease);
      lock.lock();
      try {
        finishing = false;
      } finally {
        lock.unlock();
      }
      canaryWritten.complete(null);
    } catch (Exception e) {
      LOG.warn("{}: finishing the initial sync failed, retrying: {}", name, e.toString());
      lock.lock();
      try {
        finishing = false;
      } finally {
        lock.unlock();
      }
      if (!closed) {
        control.schedule(this::maybeFinishSync, 1, TimeUnit.SECONDS);
      }
    }
  }

  /** Lists the keys under the prefix and queues each undesired one for deletion. */
  private int enqueueUndesired(Client client) throws Exception {
    int[] count = {0};
    listKeys(client, kv -> {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      if (!desired.containsKey(key)) {
        enqueue(key);
        count[0]++;
      }
    });
    return count[0];
  }

  /**
   * Passes every key under the prefix (without its value, but with its lease) to {@code each},
   * page by page at one revision.
   */
  private void listKeys(Client client, Consumer<KeyValue> each) throws Exception {
    ByteSequence end = OptionsUtil.prefixEndOf(bytes(prefix));
    ByteSequence from = bytes(prefix);
    long revision = 0;
    while (true) {
      GetOption.Builder option =
          GetOption.builder().withRange(end).withKeysOnly(true).withLimit(LIST_PAGE);
      if (revision > 0) {
        option.withRevision(revision);
      }
      var response = client.getKVClient().get(from, option.build()).get(30, TimeUnit.SECONDS);
      revision = response.getHeader().getRevision();
      List<KeyValue> kvs = response.getKvs();
      kvs.forEach(each);
      if (!response.isMore() || kvs.isEmpty()) {
        return;
      }
      from = kvs.getLast().getKey().concat(ByteSequence.from(new byte[] {0}));
    }
  }

  // ---- bridging the previous writer's leases (control thread) ----

  /**
   * Finds the leases, other than ours, that the keys under the prefix and the canary are on, and
   * starts keeping them alive. Retried until it succeeds or the initial sync is written.
   */
  private void bridgePreviousLeases() {
    if (closed || bridgeEnded) {
      return;
    }
    try {
      Client client = connection.client();
      long own;
      lock.lock();
      try {
        own = leaseId;
      } finally {
        lock.unlock();
      }
      Map<Long, Integer> keysPerLease = new TreeMap<>();
      Consumer<KeyValue> tally = kv -> {
        if (kv.getLease() != 0 && kv.getLease() != own) {
          keysPerLease.merge(kv.getLease(), 1, Integer::sum);
        }
      };
      listKeys(client, tally);
      client.getKVClient()
          .get(bytes(canaryKey), GetOption.builder().withKeysOnly(true).build())
          .get(10, TimeUnit.SECONDS).getKvs().forEach(tally);
      if (keysPerLease.isEmpty()) {
        LOG.debug("{}: no keys of a previous writer on a lease", name);
        return;
      }
      bridged.addAll(keysPerLease.keySet());
      bridgedTtlSeconds = leaseTtl.toSeconds();
      keepBridgedLeasesAlive();
      if (bridged.isEmpty()) {
        LOG.info("{}: the previous leases had already expired: {}", name, leaseList(keysPerLease));
        return;
      }
      keysPerLease.keySet().retainAll(bridged);
      LOG.info("{}: keeping the previous writer's leases alive until the initial sync is written:"
          + " {}", name, leaseList(keysPerLease));
    } catch (Exception e) {
      LOG.warn("{}: looking for a previous writer's leases failed, retrying: {}", name, e.toString());
      if (!closed) {
        control.schedule(this::bridgePreviousLeases, 1, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Renews every bridged lease once, drops those etcd no longer has, and schedules the next
   * round at a third of the shortest TTL.
   */
  private void keepBridgedLeasesAlive() {
    if (closed || bridgeEnded || bridged.isEmpty()) {
      return;
    }
    for (var it = bridged.iterator(); it.hasNext(); ) {
      long lease = it.next();
      try {
        long ttl = connection.client().getLeaseClient().keepAliveOnce(lease)
            .get(5, TimeUnit.SECONDS).getTTL();
        bridgedTtlSeconds = Math.min(bridgedTtlSeconds, ttl);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof EtcdException etcd && etcd.getErrorCode() == ErrorCode.NOT_FOUND) {
          LOG.info("{}: previous lease {} has expired, no longer keeping it alive",
              name, Long.toHexString(lease));
          it.remove();
        } else {
          LOG.debug("{}: keeping previous lease {} alive failed, retrying: {}",
              name, Long.toHexString(lease), e.getCause().toString());
        }
      } catch (Exception e) {
        LOG.debug("{}: keeping previous lease {} alive failed, retrying: {}",
            name, Long.toHexString(lease), e.toString());
      }
    }
    if (!bridged.isEmpty() && !closed) {
      long periodMillis = Math.max(1000, bridgedTtlSeconds * 1000 / 3);
      bridgeKeepAlive =
          control.schedule(this::keepBridgedLeasesAlive, periodMillis, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * The initial sync is written on {@code lease}: every desired key is on it and the undesired
   * ones are deleted, so the previous leases are left to expire.
   */
  private void endBridge(long lease) {
    bridgeEnded = true;
    if (bridgeKeepAlive != null) {
      bridgeKeepAlive.cancel(false);
    }
    if (!bridged.isEmpty()) {
      LOG.info("{}: every key is on lease {} now; no longer keeping the previous leases {} alive"
          + " (they expire within {} s)", name, Long.toHexString(lease),
          bridged.stream().map(Long::toHexString).toList(), bridgedTtlSeconds);
      bridged.clear();
    }
  }

  private static String leaseList(Map<Long, Integer> keysPerLease) {
    List<String> parts = new ArrayList<>();
    keysPerLease.forEach((lease, keys) -> parts.add(Long.toHexString(lease) + " (" + keys + " keys)"));
    return String.join(", ", parts);
  }

  // ---- lease and data-loss detection (control thread) ----

  private void renewLease(String reason) {
    if (closed) {
      return;
    }
    try {
      Client client = connection.client();
      var grant = client.getLeaseClient().grant(leaseTtl.toSeconds()).get(10, TimeUnit.SECONDS);
      etcdClusterId = grant.getHeader().getClusterId();
      startKeepAlive(client, grant.getID());
      lock.lock();
      try {
        boolean first = leaseId == 0 && writeCount.get() == 0 && errorCount.get() == 0;
        leaseId = grant.getID();
        if (!first) {
          // Everything desired goes again on the new lease; the canary goes last. Failures on
          // the old lease say nothing about the keys, so they go in full batches again.
          pending.addAll(desired.keySet());
          attempts.clear();
          cleanupDone = false;
          if (canaryWritten.isDone()) {
            canaryWritten = new CompletableFuture<>();
          }
        }
        changed.signalAll();
      } finally {
        lock.unlock();
      }
      LOG.info("{}: writing on lease {} ({})", name, Long.toHexString(grant.getID()), reason);
      maybeFinishSync();
    } catch (Exception e) {
      LOG.warn("{}: granting a lease failed ({}), retrying: {}", name, reason, e.toString());
      control.schedule(() -> renewLease(reason), 1, TimeUnit.SECONDS);
    }
  }

  private void startKeepAlive(Client client, long lease) {
    if (keepAlive != null) {
      keepAlive.close();
    }
    keepAliveBroken = false;
    keepAliveOn = client;
    keepAlive =
        client.getLeaseClient().keepAlive(lease, new StreamObserver<LeaseKeepAliveResponse>() {
          @Override
          public void onNext(LeaseKeepAliveResponse value) {}

          @Override
          public void onError(Throwable t) {
            LOG.debug("{}: lease keep-alive failed: {}", name, t.toString());
            keepAliveBroken = true;
            if (!closed) {
              control.execute(SyncStore.this::checkForDataLoss);
            }
          }

          @Override
          public void onCompleted() {
            keepAliveBroken = true;
          }
        });
  }

  private void checkForDataLoss() {
    long lease;
    boolean canaryExpected;
    lock.lock();
    try {
      if (closed || leaseId == 0) {
        return;
      }
      lease = leaseId;
      canaryExpected = canaryWritten.isDone();
    } finally {
      lock.unlock();
    }
    ChannelReadiness readiness = ChannelReadiness.none();
    long readySeen = 0;
    try {
      Client client = connection.client();
      readiness = ChannelReadiness.of(client);
      readySeen = readiness.readyCount();
      var ttl = client.getLeaseClient().timeToLive(lease, LeaseOption.DEFAULT)
          .get(5, TimeUnit.SECONDS);
      String lost = null;
      if (ttl.getTTL() < 0) {
        lost = "lease " + Long.toHexString(lease) + " no longer exists";
      } else if (etcdClusterId != 0 && ttl.getHeader().getClusterId() != etcdClusterId) {
        lost = "etcd cluster id changed from " + Long.toHexString(etcdClusterId) + " to "
            + Long.toHexString(ttl.getHeader().getClusterId());
      } else if (canaryExpected) {
        long count = client.getKVClient()
            .get(bytes(canaryKey), GetOption.builder().withCountOnly(true).build())
            .get(5, TimeUnit.SECONDS).getCount();
        if (count == 0) {
          lost = "synced canary " + canaryKey + " vanished";
        }
      }
      if (lost != null) {
        LOG.warn("{}: etcd lost our data ({}); rewriting all {} keys", name, lost, desired.size());
        lock.lock();
        try {
          leaseId = 0; // writes wait for the new lease
          if (canaryWritten.isDone()) {
            canaryWritten = new CompletableFuture<>();
          }
        } finally {
          lock.unlock();
        }
        resyncCount.incrementAndGet();
        renewLease(lost);
      } else if (keepAliveBroken || keepAliveOn != client) {
        // The lease is fine but its keep-alive stream died or the client was replaced.
        startKeepAlive(client, lease);
      }
    } catch (Exception e) {
      LOG.debug("{}: data-loss check could not reach etcd: {}", name, e.toString());
      lock.lock();
      try {
        retryAllWhenReconnected(readiness, readySeen); // check again as soon as it is back
      } finally {
        lock.unlock();
      }
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "SyncStore[" + name + "]";
  }

  /** Options of a {@link SyncStore}. */
  public static final class Builder<T extends Message> {
    private final EtcdConnection connection;
    private final KeyLayout layout;
    private final String cluster;
    private final Kind kind;
    private final Codec<T> codec;
    private double writesPerSecond = 1000;
    private Duration leaseTtl = Duration.ofSeconds(60);
    private Duration checkInterval = Duration.ofSeconds(10);
    private InstantSource clock = InstantSource.system();
    private MeterRegistry registry = new SimpleMeterRegistry();
    private Backoff backoff = Backoff.standard();
    private String name;

    private Builder(
        EtcdConnection connection, KeyLayout layout, String cluster, Kind kind, Codec<T> codec) {
      this.connection = Objects.requireNonNull(connection, "connection");
      this.layout = Objects.requireNonNull(layout, "layout");
      this.cluster = KeyLayout.checkCluster(cluster);
      this.kind = Objects.requireNonNull(kind, "kind");
      this.codec = Objects.requireNonNull(codec, "codec");
      if (!kind.messageType().equals(codec.type())) {
        throw new IllegalArgumentException(
            "codec " + codec + " does not match kind " + kind.segment()
                + " (expects " + kind.messageType().getSimpleName() + ")");
      }
    }

    /** Maximum puts and deletes per second. Default 1000. */
    public Builder<T> writesPerSecond(double rate) {
      if (!(rate > 0)) {
        throw new IllegalArgumentException("writes per second must be positive, got " + rate);
      }
      this.writesPerSecond = rate;
      return this;
    }

    /** TTL of the lease the keys are written on. Default 60 s; at least 5 s. */
    public Builder<T> leaseTtl(Duration ttl) {
      if (ttl.toSeconds() < 5) {
        throw new IllegalArgumentException("lease TTL must be at least 5 s, got " + ttl);
      }
      this.leaseTtl = ttl;
      return this;
    }

    /** How often to check that the etcd still has our data. Default 10 s. */
    public Builder<T> dataLossCheckInterval(Duration interval) {
      this.checkInterval = PositiveDuration.require(interval, "data-loss check interval");
      return this;
    }

    /** The clock of the canary timestamp. Default: the system clock. */
    public Builder<T> clock(InstantSource clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Delays between retries. Default {@link Backoff#standard()}. */
    public Builder<T> backoff(Backoff backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /** Where the metrics go (tagged {@code store=<name>}). Default: a private registry. */
    public Builder<T> meterRegistry(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The name in logs and metric tags. Default: {@code sync <prefix>}. */
    public Builder<T> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** The store, not started yet. */
    public SyncStore<T> build() {
      return new SyncStore<>(this);
    }
  }
}
