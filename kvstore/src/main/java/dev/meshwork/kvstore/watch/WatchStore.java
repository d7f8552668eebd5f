package dev.meshwork.kvstore.watch;

import com.google.protobuf.Message;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.ChannelReadiness;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.settings.PositiveDuration;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads one key prefix of one etcd and reports its changes to a {@link WatchHandler}.
 *
 * <p>How it stays correct (ARCHITECTURE.md, failure semantics):
 *
 * <ol>
 *   <li>On every (re)connect it marks every known key stale, lists the prefix (in pages, at one
 *       revision R), reports new and changed keys, then reports a delete for each key still
 *       stale, and watches from R + 1.
 *   <li>Any watch error, a compacted revision included, closes the watch and starts over with a
 *       relist (after a backoff if the list itself fails). A periodic relist (default 5 min)
 *       guards against missed events.
 *   <li>A failed list waits for its backoff or for the connection to etcd to come back ({@link
 *       ChannelReadiness}), whichever is first: a returning etcd is relisted from at once, not
 *       after a backoff that grew during the outage.
 *   <li>It remembers only each key's mod revision (not its value), so an unchanged key is not
 *       reported again after a relist and the memory per key stays small. If the etcd lost its
 *       data (a list revision older than what was seen), every key is reported afresh.
 *   <li>With {@link Builder#syncedCanary(String)} stale keys are deleted only once the writer's
 *       synced canary exists, so a half-written etcd never empties what the reader knew.
 *   <li>A value that does not decode, or that the {@link KeyValidator} rejects, is counted,
 *       logged with its key and skipped; a key that was valid before keeps its last good value.
 * </ol>
 *
 * <p>All handler calls come from one thread per store, in order.
 *
 * @param <T> the decoded value type
 */
public final class WatchStore<T extends Message> implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WatchStore.class);

  private final EtcdConnection connection;
  private final String prefix;
  private final ByteSequence prefixBytes;
  private final ByteSequence prefixEnd;
  private final Codec<T> codec;
  private final WatchHandler<? super T> handler;
  private final KeyValidator<? super T> validator;
  private final Optional<String> syncedCanary;
  private final Duration relistInterval;
  private final String name;
  private final LongConsumer beforeWatch;
  private final Backoff backoff;
  private final int pageSize;
  private final Duration canaryPoll;
  private final ScheduledExecutorService executor;

  private final Counter decodeFailures;
  private final Counter rejected;
  private final Counter relists;
  private final Counter events;
  private final AtomicLong decodeFailureCount = new AtomicLong();
  private final AtomicLong rejectedCount = new AtomicLong();
  private final AtomicLong relistCount = new AtomicLong();
  private final AtomicInteger size = new AtomicInteger();
  private volatile boolean synced;
  private volatile boolean watching;
  private volatile Thread storeThread;

  // Confined to the executor thread.
  private final Map<String, Known> known = new HashMap<>();
  private int generation;
  private Watch.Watcher watcher;
  private Watch.Watcher canaryWatcher;
  private long revision;
  private long etcdClusterId;
  private int attempt;
  private ScheduledFuture<?> nextRelist;
  /** The readiness of the client of the current attempt and its ready count when it began. */
  private ChannelReadiness readiness = ChannelReadiness.none();
  private long readySeen;
  private ChannelReadiness.Wakeup wakeup;
  private boolean closed;

  /** What the store remembers per key: no value, only enough to de-duplicate and delete. */
  private static final class Known {
    long modRevision;
    boolean stale;
    boolean delivered;

    Known(long modRevision) {
      this.modRevision = modRevision;
    }
  }

  private WatchStore(Builder<T> b) {
    this.connection = b.connection;
    this.prefix = b.prefix;
    this.prefixBytes = bytes(b.prefix);
    this.prefixEnd =
        b.exactKey
            ? prefixBytes.concat(ByteSequence.from(new byte[] {0}))
            : OptionsUtil.prefixEndOf(prefixBytes);
    this.codec = b.codec;
    this.handler = b.handler;
    this.validator = b.validator;
    this.syncedCanary = Optional.ofNullable(b.syncedCanary);
    this.relistInterval = b.relistInterval;
    this.name = b.name != null ? b.name : connection.name() + " " + prefix;
    this.beforeWatch = b.beforeWatch;
    this.backoff = b.backoff;
    this.pageSize = b.pageSize;
    this.canaryPoll = b.canaryPoll;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "watchstore " + name);
              t.setDaemon(true);
              storeThread = t;
              return t;
            });
    MeterRegistry registry = b.registry;
    this.decodeFailures =
        Counter.builder("meshwork.kvstore.watch.decode.failures")
            .description("values that did not decode and were skipped")
            .tag("store", name)
            .register(registry);
    this.rejected =
        Counter.builder("meshwork.kvstore.watch.rejected")
            .description("keys the validator rejected and were skipped")
            .tag("store", name)
            .register(registry);
    this.relists =
        Counter.builder("meshwork.kvstore.watch.relists")
            .description("full lists of the prefix (start, reconnect, error, periodic)")
            .tag("store", name)
            .register(registry);
    this.events =
        Counter.builder("meshwork.kvstore.watch.events")
            .description("watch events received")
            .tag("store", name)
            .register(registry);
    Gauge.builder("meshwork.kvstore.watch.keys", size, AtomicInteger::get)
        .description("keys known under the prefix")
        .tag("store", name)
        .register(registry);
  }

  /**
   * A builder for a store that reads {@code prefix} of {@code connection}, decodes values with
   * {@code codec} and reports to {@code handler}.
   */
  public static <T extends Message> Builder<T> builder(
      EtcdConnection connection, String prefix, Codec<T> codec, WatchHandler<? super T> handler) {
    return new Builder<>(connection, prefix, codec, handler);
  }

  /**
   * A builder for a store that reads exactly one key (a heartbeat, a cluster config, a canary):
   * unlike a prefix, {@code meshwork/v1/heartbeat/c1} then does not also match {@code .../c10}.
   */
  public static <T extends Message> Builder<T> forKey(
      EtcdConnection connection, String key, Codec<T> codec, WatchHandler<? super T> handler) {
    Builder<T> builder = new Builder<>(connection, key, codec, handler);
    builder.exactKey = true;
    return builder;
  }

  /** Starts listing and watching in the background; returns at once. */
  public void start() {
    executor.execute(() -> relist("start"));
  }

  /** Asks for a full relist now (for example after a config change). */
  public void relistNow() {
    executor.execute(() -> relist("requested"));
  }

  /** Whether {@link WatchHandler#onSynced()} has been called. */
  public boolean isSynced() {
    return synced;
  }

  /** Whether a watch is currently established (the last list completed and no error since). */
  public boolean isWatching() {
    return watching;
  }

  /** Values skipped because they did not decode, since start. */
  public long decodeFailures() {
    return decodeFailureCount.get();
  }

  /** Key/value pairs skipped because the validator rejected them, since start. */
  public long rejected() {
    return rejectedCount.get();
  }

  /** Completed lists of the prefix, since start. */
  public long relists() {
    return relistCount.get();
  }

  /** Keys currently known (delivered or skipped). */
  public int size() {
    return size.get();
  }

  /** The prefix this store reads. */
  public String prefix() {
    return prefix;
  }

  /** Stops watching. Does not report deletes: what the handler knows stays as it is. */
  @Override
  public void close() {
    Runnable stop =
        () -> {
          closed = true;
          generation++;
          closeWatcher();
          if (nextRelist != null) {
            nextRelist.cancel(false);
          }
          cancelWakeup();
        };
    if (Thread.currentThread() == storeThread) {
      stop.run(); // closed from a handler callback
    } else {
      try {
        CompletableFuture.runAsync(stop, executor).get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.debug("{}: close did not complete cleanly", name, e);
      }
    }
    executor.shutdownNow();
  }

  // ---- the relist / watch cycle; everything below runs on the executor thread ----

  private void relist(String reason) {
    if (closed) {
      return;
    }
    int gen = ++generation;
    watching = false;
    closeWatcher();
    if (nextRelist != null) {
      nextRelist.cancel(false);
      nextRelist = null;
    }
    cancelWakeup();
    LOG.debug("{}: relisting ({})", name, reason);
    for (Known k : known.values()) {
      k.stale = true;
    }
    Client client;
    try {
      client = connection.client();
    } catch (RuntimeException e) {
      readiness = ChannelReadiness.none();
      retry(gen, "no client", e);
      return;
    }
    readiness = ChannelReadiness.of(client);
    readySeen = readiness.readyCount();
    CompletableFuture<Boolean> canary =
        syncedCanary
            .map(key -> client.getKVClient()
                .get(bytes(key), GetOption.builder().withCountOnly(true).build())
                .thenApply(r -> r.getCount() > 0))
            .orElse(CompletableFuture.completedFuture(true));
    // The canary is read before the list: if it existed then, the list is complete.
    canary.whenCompleteAsync(
        (present, error) -> {
          if (gen != generation) {
            return;
          }
          if (error != null) {
            retry(gen, "reading synced canary " + syncedCanary.orElse(""), error);
            return;
          }
          listPage(client, gen, prefixBytes, 0, present, 0);
        },
        executor);
  }

  private void listPage(
      Client client, int gen, ByteSequence from, long atRevision, boolean canary, int pageNo) {
    // No sort options: etcd returns a range in key order anyway, and on etcd 3.4 an explicit sort
    // makes every page re-read the whole rest of the range (4-10x slower lists at 100k keys).
    GetOption.Builder option = GetOption.builder().withRange(prefixEnd).withLimit(pageSize);
    if (atRevision > 0) {
      option.withRevision(atRevision);
    }
    client
        .getKVClient()
        .get(from, option.build())
        .whenCompleteAsync(
            (response, error) -> {
              if (gen != generation) {
                return;
              }
              if (error != null) {
                retry(gen, "listing " + prefix, error);
                return;
              }
              long rev = atRevision > 0 ? atRevision : response.getHeader().getRevision();
              long clusterId = response.getHeader().getClusterId();
              if (pageNo == 0 && (rev < revision || (etcdClusterId != 0 && clusterId != etcdClusterId))) {
                // Another etcd, or one that lost its data: mod revisions are meaningless now, so
                // forget them and report every key afresh (stale ones are still deleted).
                LOG.warn("{}: etcd changed (cluster id {} -> {}, revision {} -> {}), resyncing",
                    name, Long.toHexString(etcdClusterId), Long.toHexString(clusterId), revision, rev);
                for (Known k : known.values()) {
                  k.modRevision = -1;
                }
              }
              if (pageNo == 0) {
                etcdClusterId = clusterId;
              }
              List<KeyValue> kvs = response.getKvs();
              boolean more = response.isMore() && !kvs.isEmpty();
              if (more) {
                // Ask for the next page first, so etcd serves it while this one is decoded.
                ByteSequence next = kvs.getLast().getKey().concat(ByteSequence.from(new byte[] {0}));
                listPage(client, gen, next, rev, canary, pageNo + 1);
              }
              applyPage(response);
              if (!more) {
                listComplete(client, gen, rev, canary);
              }
            },
            executor);
  }

  private void applyPage(GetResponse response) {
    for (KeyValue kv : response.getKvs()) {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      Known k = known.get(key);
      if (k != null) {
        k.stale = false;
        if (k.modRevision == kv.getModRevision()) {
          continue;
        }
      }
      apply(key, kv);
    }
  }

  private void listComplete(Client client, int gen, long rev, boolean canary) {
    relistCount.incrementAndGet();
    relists.increment();
    if (canary) {
      Iterator<Map.Entry<String, Known>> it = known.entrySet().iterator();
      List<String> deleted = new ArrayList<>();
      while (it.hasNext()) {
        Map.Entry<String, Known> e = it.next();
        if (e.getValue().stale) {
          it.remove();
          if (e.getValue().delivered) {
            deleted.add(e.getKey());
          }
        }
      }
      size.set(known.size());
      for (String key : deleted) {
        deliverDelete(key);
      }
    } else {
      LOG.info("{}: synced canary {} does not exist yet; keeping stale keys until it does",
          name, syncedCanary.orElse(""));
    }
    revision = rev;
    attempt = 0;
    if (canary && !synced) {
      synced = true;
      try {
        handler.onSynced();
      } catch (RuntimeException e) {
        LOG.error("{}: handler failed on synced", name, e);
      }
    }
    beforeWatch.accept(rev);
    startWatch(client, gen, rev + 1);
    if (!canary) {
      watchCanary(client, gen, rev + 1);
    }
    // Without the canary, look again soon; otherwise the periodic guard.
    Duration next = canary ? relistInterval : canaryPoll;
    nextRelist = executor.schedule(
        () -> {
          if (gen == generation) {
            relist(canary ? "periodic" : "waiting for synced canary");
          }
        },
        next.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void startWatch(Client client, int gen, long fromRevision) {
    WatchOption option =
        WatchOption.builder().withRange(prefixEnd).withRevision(fromRevision).build();
    Watch.Listener listener =
        new Watch.Listener() {
          @Override
          public void onNext(WatchResponse response) {
            executor.execute(() -> onWatchResponse(gen, response));
          }

          @Override
          public void onError(Throwable error) {
            executor.execute(() -> {
              if (gen == generation) {
                retryNow(gen, "watch failed", error);
              }
            });
          }

          @Override
          public void onCompleted() {
            executor.execute(() -> {
              if (gen == generation && !closed) {
                retryNow(gen, "watch ended", null);
              }
            });
          }
        };
    try {
      watcher = client.getWatchClient().watch(prefixBytes, option, listener);
      watching = true;
    } catch (RuntimeException e) {
      retry(gen, "starting watch", e);
    }
  }

  /** Relists as soon as the missing synced canary is written (polling is only the fallback). */
  private void watchCanary(Client client, int gen, long fromRevision) {
    ByteSequence key = bytes(syncedCanary.orElseThrow());
    WatchOption option =
        WatchOption.builder()
            .withRange(key.concat(ByteSequence.from(new byte[] {0})))
            .withRevision(fromRevision)
            .withNoDelete(true)
            .build();
    try {
      canaryWatcher =
          client.getWatchClient().watch(key, option, response -> executor.execute(() -> {
            if (gen == generation && !response.getEvents().isEmpty()) {
              relist("synced canary appeared");
            }
          }));
    } catch (RuntimeException e) {
      LOG.debug("{}: cannot watch the synced canary, polling only", name, e);
    }
  }

  private void onWatchResponse(int gen, WatchResponse response) {
    if (gen != generation) {
      return;
    }
    for (WatchEvent event : response.getEvents()) {
      events.increment();
      KeyValue kv = event.getKeyValue();
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      switch (event.getEventType()) {
        case PUT -> {
          Known k = known.get(key);
          if (k == null || k.modRevision != kv.getModRevision()) {
            apply(key, kv);
          }
        }
        case DELETE -> {
          Known k = known.remove(key);
          size.set(known.size());
          if (k != null && k.delivered) {
            deliverDelete(key);
          }
        }
        default -> LOG.debug("{}: ignoring event {} on {}", name, event.getEventType(), key);
      }
      revision = Math.max(revision, kv.getModRevision());
    }
  }

  /** Decodes, validates and delivers one key; remembers its mod revision either way. */
  private void apply(String key, KeyValue kv) {
    Known k = known.get(key);
    if (k == null) {
      k = new Known(kv.getModRevision());
      known.put(key, k);
      size.set(known.size());
    } else {
      k.modRevision = kv.getModRevision();
      k.stale = false;
    }
    Decoded<T> decoded = codec.decode(key, kv.getValue().getBytes());
    switch (decoded) {
      case Decoded.Failure<T> f -> {
        decodeFailureCount.incrementAndGet();
        decodeFailures.increment();
        LOG.warn("{}: {}; skipped{}", name, f.reason(),
            k.delivered ? ", keeping the key's last good value" : "");
      }
      case Decoded.Value<T> v -> {
        Optional<String> rejection = validator.rejection(key, v.value());
        if (rejection.isPresent()) {
          rejectedCount.incrementAndGet();
          rejected.increment();
          LOG.warn("{}: rejecting key {}: {}", name, key, rejection.get());
          return;
        }
        k.delivered = true;
        try {
          handler.onUpsert(key, v.value());
        } catch (RuntimeException e) {
          LOG.error("{}: handler failed on upsert of {}", name, key, e);
        }
      }
    }
  }

  private void deliverDelete(String key) {
    try {
      handler.onDelete(key);
    } catch (RuntimeException e) {
      LOG.error("{}: handler failed on delete of {}", name, key, e);
    }
  }

  private void retryNow(int gen, String what, Throwable error) {
    // A watch that was working failed: relist at once (the first attempt has no delay).
    watching = false;
    closeWatcher();
    LOG.info("{}: {}, relisting: {}", name, what, error == null ? "completed" : error.toString());
    relist(what);
  }

  private void retry(int gen, String what, Throwable error) {
    if (gen != generation || closed) {
      return;
    }
    watching = false;
    closeWatcher();
    Duration delay = backoff.delay(++attempt);
    LOG.warn("{}: {} failed (attempt {}), retrying in {} ms: {}",
        name, what, attempt, delay.toMillis(), error.toString());
    nextRelist = executor.schedule(
        () -> {
          if (gen == generation) {
            relist("retry after " + what);
          }
        },
        delay.toMillis(),
        TimeUnit.MILLISECONDS);
    // Or sooner: as soon as the connection to etcd is back.
    wakeup = readiness.onReadyAfter(readySeen, () -> onStoreThread(() -> {
      if (gen == generation && !closed) {
        LOG.info("{}: {} reachable again, relisting now", name, connection.name());
        attempt = 0; // failures while etcd was away say nothing about the next ones
        relist("etcd reachable again");
      }
    }));
  }

  private void cancelWakeup() {
    if (wakeup != null) {
      wakeup.cancel();
      wakeup = null;
    }
  }

  /** Runs {@code task} on the store's thread, unless the store has been closed. */
  private void onStoreThread(Runnable task) {
    try {
      executor.execute(task);
    } catch (RejectedExecutionException e) {
      LOG.debug("{}: closed, not running {}", name, task);
    }
  }


  private void closeWatcher() {
    if (canaryWatcher != null) {
      try {
        canaryWatcher.close();
      } catch (RuntimeException e) {
        LOG.debug("{}: closing canary watcher", name, e);
      }
      canaryWatcher = null;
    }
    if (watcher != null) {
      try {
        watcher.close();
      } catch (RuntimeException e) {
        LOG.debug("{}: closing watcher", name, e);
      }
      watcher = null;
    }
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "WatchStore[" + name + "]";
  }

  /** Options of a {@link WatchStore}. */
  public static final class Builder<T extends Message> {
    private final EtcdConnection connection;
    private final String prefix;
    private final Codec<T> codec;
    private final WatchHandler<? super T> handler;
    private KeyValidator<? super T> validator = KeyValidator.acceptAll();
    private String syncedCanary;
    private Duration relistInterval = Duration.ofMinutes(5);
    private MeterRegistry registry = new SimpleMeterRegistry();
    private Backoff backoff = Backoff.standard();
    private String name;
    private LongConsumer beforeWatch = rev -> {};
    private Duration canaryPoll = Duration.ofSeconds(10);
    private boolean exactKey;
    // etcd 3.4 walks the rest of the range for every page, so few large pages list much faster
    // than many small ones (100k ipcache entries: ~1 s with 10,000 per page, ~5 s with 2,000).
    private int pageSize = 10_000;

    private Builder(
        EtcdConnection connection, String prefix, Codec<T> codec, WatchHandler<? super T> handler) {
      this.connection = Objects.requireNonNull(connection, "connection");
      this.prefix = Objects.requireNonNull(prefix, "prefix");
      if (prefix.isEmpty()) {
        throw new IllegalArgumentException("watch prefix is empty");
      }
      this.codec = Objects.requireNonNull(codec, "codec");
      this.handler = Objects.requireNonNull(handler, "handler");
    }

    /** Rejects decoded pairs (counted, logged, skipped). Default: accept all. */
    public Builder<T> keyValidator(KeyValidator<? super T> validator) {
      this.validator = Objects.requireNonNull(validator, "validator");
      return this;
    }

    /**
     * Deletes stale keys (and reports synced) only while this canary key exists, for example
     * {@code KeyLayout.state().syncedKey(cluster, kind)}. Default: no gating.
     */
    public Builder<T> syncedCanary(String canaryKey) {
      this.syncedCanary = Objects.requireNonNull(canaryKey, "canaryKey");
      return this;
    }

    /** How often to relist while the synced canary is missing, besides watching for it. Default 10 s. */
    public Builder<T> canaryPollInterval(Duration interval) {
      this.canaryPoll = PositiveDuration.require(interval, "canary poll interval");
      return this;
    }

    /** Keys per list request. Default 10,000 (responses of a few MB; the client accepts 64 MB). */
    public Builder<T> listPageSize(int keys) {
      if (keys < 1) {
        throw new IllegalArgumentException("list page size must be positive, got " + keys);
      }
      this.pageSize = keys;
      return this;
    }

    /** How often to relist even without errors. Default 5 minutes. */
    public Builder<T> relistInterval(Duration interval) {
      this.relistInterval = PositiveDuration.require(interval, "relist interval");
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

    /** The name in logs and metric tags. Default: connection name and prefix. */
    public Builder<T> name(String name) {
      this.name = Objects.requireNonNull(name, "name");
      return this;
    }

    /** Test seam: runs on the store's thread after a list at the given revision, before the watch starts. */
    Builder<T> beforeWatch(LongConsumer hook) {
      this.beforeWatch = Objects.requireNonNull(hook, "hook");
      return this;
    }

    /** The store, not started yet. */
    public WatchStore<T> build() {
      return new WatchStore<>(this);
    }
  }
}
