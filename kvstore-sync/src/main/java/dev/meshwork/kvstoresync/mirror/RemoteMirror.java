package dev.meshwork.kvstoresync.mirror;

import com.google.protobuf.Message;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.ReloadingEtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.kvstore.watch.ClusterKeyValidator;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.Heartbeat;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mirrors one remote cluster into the local etcd under {@code meshwork/v1/cache/<remote>/}.
 *
 * <p>It first reads the remote's cluster-config and refuses the remote (with a status saying why,
 * retrying later) if the name differs from the file name, the id is 0, ours, or claimed by another
 * remote. Once accepted, per kind a {@link WatchStore} on the remote (gated on the remote's synced
 * canary, validating every key and value against the remote's name and id) feeds a {@link
 * SyncStore} on the local etcd in the cache layout. The WatchStore reports synced only once the
 * remote's canary exists and its list is delivered; only then is the SyncStore told {@code
 * synced()}, so the mirror's own canary follows the remote's and the mirrored list. Deletes reach
 * the mirror only from a complete relist or a watch event, so an unreachable or wiped remote never
 * empties it. The cluster-config and heartbeat are mirrored verbatim beside the kinds.
 */
public final class RemoteMirror implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RemoteMirror.class);

  /** Hands out cluster ids among the remotes: two remotes must not share one. */
  public interface IdClaims {
    /** Claims {@code id} for {@code remote}; empty if granted, else why not. */
    Optional<String> claim(String remote, int id);

    /** Releases whatever {@code remote} claimed. */
    void release(String remote);
  }

  private final RemoteClusterConfig config;
  private final String remote;
  private final EtcdConnection local;
  private final MirrorSettings settings;
  private final IdClaims claims;
  private final ScheduledExecutorService executor;
  private final MirrorLag lag;
  private final List<Meter> meters = new ArrayList<>();
  private final AtomicLong failures = new AtomicLong();

  // Written on the executor thread, read by status().
  private volatile ReloadingEtcdConnection remoteConnection;
  private final Map<Kind, KindMirror<?>> kinds = new ConcurrentHashMap<>();
  private volatile List<WatchStore<?>> watches = List.of();
  private volatile int acceptedId;
  private volatile String status = "connecting";
  private volatile String lastFailure = "";
  private volatile long lastFailureMillis;
  private volatile boolean restartRequested;
  private volatile boolean watchingStopped;
  private volatile boolean closed;
  private volatile byte[] mirroredClusterConfig;
  private Watch.Watcher localWatcher;
  private int attempt;

  /** One kind: the remote reader and the local writer. */
  private record KindMirror<T extends Message>(WatchStore<T> watch, SyncStore<T> sync) {}

  RemoteMirror(RemoteClusterConfig config, EtcdConnection local, MirrorSettings settings, IdClaims claims) {
    this.config = Objects.requireNonNull(config, "config");
    this.remote = config.cluster();
    this.local = Objects.requireNonNull(local, "local");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.claims = Objects.requireNonNull(claims, "claims");
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "kvstore-sync mirror " + remote);
      t.setDaemon(true);
      return t;
    });
    MeterRegistry registry = settings.registry();
    Tags tags = Tags.of("remote", remote);
    Timer timer = Timer.builder("meshwork.kvstoresync.mirror.lag")
        .description("time from a remote watch event to the mirrored key's write in the local etcd")
        .tags(tags).publishPercentiles(0.5, 0.99).register(registry);
    this.lag = new MirrorLag(timer);
    meters.add(timer);
    meters.add(Gauge.builder("meshwork.kvstoresync.remote.ready", this, m -> m.isReady() ? 1 : 0)
        .description("1 when the remote is accepted and every kind's mirror canary is written").tags(tags).register(registry));
    meters.add(Gauge.builder("meshwork.kvstoresync.remote.connected", this, m -> m.isConnected() ? 1 : 0)
        .description("1 when every watch on the remote etcd is established").tags(tags).register(registry));
    meters.add(Gauge.builder("meshwork.kvstoresync.mirror.lag.oldest", lag, l -> l.oldestPendingMillis() / 1000.0)
        .description("seconds the oldest remote change not yet in the local etcd has waited").baseUnit("seconds")
        .tags(tags).register(registry));
    meters.add(FunctionCounter.builder("meshwork.kvstoresync.failures", failures, AtomicLong::get)
        .description("failed attempts to connect to, validate or mirror the remote").tags(tags).register(registry));
    for (Kind kind : Kind.values()) {
      Tags kindTags = tags.and("kind", kind.segment());
      meters.add(Gauge.builder("meshwork.kvstoresync.entries", this, m -> m.entries(kind))
          .description("entries mirrored per remote and kind").tags(kindTags).register(registry));
      meters.add(FunctionCounter.builder("meshwork.kvstoresync.skipped", this, m -> m.skipped(kind))
          .description("remote values skipped: undecodable, or keys/values of another cluster").tags(kindTags).register(registry));
    }
  }

  /** The remote cluster's name. */
  public String remote() {
    return remote;
  }

  /** The config this mirror was built from. */
  public RemoteClusterConfig config() {
    return config;
  }

  /** Connects, validates and starts mirroring in the background. */
  void start() {
    executor.execute(this::connect);
  }

  /** Whether the remote's cluster-config changed its id: the manager then rebuilds the mirror. */
  boolean restartRequested() {
    return restartRequested;
  }

  /** Moves live watches to new client certificates if the files changed. */
  void reloadCertificates() {
    ReloadingEtcdConnection connection = remoteConnection;
    if (connection != null && !closed) {
      try {
        connection.reloadIfChanged();
      } catch (RuntimeException e) {
        fail("reloading the client certificates failed: " + e.getMessage());
      }
    }
  }

  // ---- connect and validate (executor thread) ----

  private void connect() {
    if (closed || watchingStopped) {
      return;
    }
    try {
      if (remoteConnection == null) {
        remoteConnection = ReloadingEtcdConnection.open(config);
      }
      var response = remoteConnection.client().getKVClient()
          .get(bytes(KeyLayout.clusterConfigKey(remote))).get(10, TimeUnit.SECONDS);
      if (response.getKvs().isEmpty()) {
        retryLater("waiting for " + KeyLayout.clusterConfigKey(remote) + " in the remote etcd");
        return;
      }
      byte[] raw = response.getKvs().getFirst().getValue().getBytes();
      switch (Codecs.CLUSTER_CONFIG.decode(KeyLayout.clusterConfigKey(remote), raw)) {
        case Decoded.Failure<ClusterConfig> f -> retryLater("refused: cluster-config does not decode: " + f.reason());
        case Decoded.Value<ClusterConfig> v -> {
          Optional<String> refusal = validate(v.value());
          if (refusal.isPresent()) {
            retryLater("refused: " + refusal.get());
          } else {
            accept(v.value());
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      retryLater("cannot read the remote's cluster-config: " + e);
    }
  }

  private Optional<String> validate(ClusterConfig remoteConfig) {
    if (!remoteConfig.getName().equals(remote)) {
      return Optional.of("its cluster-config names cluster '" + remoteConfig.getName() + "', but the config file "
          + config.source().getFileName() + " is for '" + remote + "'");
    }
    int id = remoteConfig.getId();
    if (!ClusterId.isValid(id)) {
      return Optional.of("cluster id " + Integer.toUnsignedLong(id) + " is outside " + ClusterId.MIN + ".." + ClusterId.MAX);
    }
    if (id == settings.clusterId().value()) {
      return Optional.of("cluster id " + id + " is our own (cluster " + settings.clusterName() + ")");
    }
    return claims.claim(remote, id);
  }

  private void retryLater(String why) {
    attempt++;
    fail(why);
    Duration delay = settings.retry().delay(attempt);
    LOG.warn("remote {}: {}; retrying in {} ms", remote, why, delay.toMillis());
    if (!closed) {
      executor.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void accept(ClusterConfig remoteConfig) {
    acceptedId = remoteConfig.getId();
    attempt = 0;
    status = "mirroring (cluster id " + acceptedId + ")";
    LOG.info("remote {}: accepted cluster id {}, mirroring into {}", remote, acceptedId, CacheKeys.mirrorPrefix(remote));
    watchLocal();
    List<WatchStore<?>> all = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      KindMirror<?> mirror = startKind(kind, kind.codec());
      kinds.put(kind, mirror);
      all.add(mirror.watch());
    }
    WatchStore<ClusterConfig> configWatch = WatchStore.forKey(remoteConnection, KeyLayout.clusterConfigKey(remote),
        Codecs.CLUSTER_CONFIG, new WatchHandler<>() {
          @Override
          public void onUpsert(String key, ClusterConfig value) {
            if (value.getId() != acceptedId || !value.getName().equals(remote)) {
              restartRequested = true;
              fail("cluster-config changed to " + value.getName() + "/" + value.getId() + "; validating again");
              return;
            }
            mirroredClusterConfig = Codecs.CLUSTER_CONFIG.encode(value);
            putLocal(CacheKeys.clusterConfigKey(remote), mirroredClusterConfig);
          }

          @Override
          public void onDelete(String key) {
            // Keep the mirrored config: a wiped remote etcd gets it back from its operator.
          }
        }).name("mirror " + remote + " cluster-config").backoff(settings.retry()).build();
    WatchStore<Heartbeat> heartbeatWatch = WatchStore.forKey(remoteConnection, KeyLayout.heartbeatKey(remote),
        Codecs.HEARTBEAT, new WatchHandler<>() {
          @Override
          public void onUpsert(String key, Heartbeat value) {
            putLocal(CacheKeys.heartbeatKey(remote), Codecs.HEARTBEAT.encode(value));
            // The config is a plain put: rewrite it with every heartbeat in case the local etcd lost it.
            byte[] config = mirroredClusterConfig;
            if (config != null) {
              putLocal(CacheKeys.clusterConfigKey(remote), config);
            }
          }

          @Override
          public void onDelete(String key) {
            deleteLocal(CacheKeys.heartbeatKey(remote));
          }
        }).name("mirror " + remote + " heartbeat").backoff(settings.retry()).build();
    all.add(configWatch);
    all.add(heartbeatWatch);
    watches = List.copyOf(all);
    for (KindMirror<?> mirror : kinds.values()) {
      mirror.sync().start();
    }
    all.forEach(WatchStore::start);
  }

  private <T extends Message> KindMirror<T> startKind(Kind kind, Codec<T> codec) {
    KeyLayout cache = KeyLayout.cache(remote);
    SyncStore<T> sync = SyncStore.builder(local, cache, remote, kind, codec)
        .writesPerSecond(settings.writesPerSecond())
        .backoff(settings.retry())
        .name("mirror " + remote + " " + kind.segment())
        .build();
    // The whole kind, not only the remote's folder: a key another cluster's folder holds in the
    // remote's etcd is then seen, rejected by the validator and counted, as in direct mode. It
    // costs nothing extra, since a cluster's etcd holds only its own state.
    WatchStore<T> watch = WatchStore.builder(remoteConnection, KeyLayout.state().kindPrefix(kind), codec,
            new WatchHandler<T>() {
              @Override
              public void onUpsert(String key, T value) {
                String cacheKey = cache.key(KeyLayout.state().parse(key));
                lag.changed(cacheKey, value.hashCode());
                sync.upsert(cacheKey, value);
              }

              @Override
              public void onDelete(String key) {
                String cacheKey = cache.key(KeyLayout.state().parse(key));
                lag.deleted(cacheKey);
                sync.delete(cacheKey);
              }

              @Override
              public void onSynced() {
                LOG.info("remote {}: {} synced in the remote and listed; publishing the mirror's canary", remote, kind.segment());
                sync.synced();
              }
            })
        .syncedCanary(KeyLayout.state().syncedKey(remote, kind))
        .keyValidator(new ClusterKeyValidator(KeyLayout.state(), kind, remote, ClusterId.of(acceptedId)))
        .canaryPollInterval(settings.canaryPoll())
        .backoff(settings.retry())
        .name("mirror " + remote + " " + kind.segment())
        .build();
    return new KindMirror<>(watch, sync);
  }

  // ---- the local etcd: single keys and the lag watch ----

  private void putLocal(String key, byte[] value) {
    try {
      local.client().getKVClient().put(bytes(key), ByteSequence.from(value)).whenComplete((r, e) -> {
        if (e != null) {
          fail("writing " + key + " to the local etcd failed: " + e);
          if (!closed) {
            executor.schedule(() -> putLocal(key, value), 1, TimeUnit.SECONDS);
          }
        }
      });
    } catch (RuntimeException e) {
      fail("writing " + key + " to the local etcd failed: " + e);
    }
  }

  private void deleteLocal(String key) {
    try {
      local.client().getKVClient().delete(bytes(key)).exceptionally(e -> {
        fail("deleting " + key + " from the local etcd failed: " + e);
        return null;
      });
    } catch (RuntimeException e) {
      fail("deleting " + key + " from the local etcd failed: " + e);
    }
  }

  /** Watches the mirror prefix locally to time each change from remote event to local write. */
  private void watchLocal() {
    if (closed) {
      return;
    }
    ByteSequence prefix = bytes(CacheKeys.mirrorPrefix(remote));
    try {
      localWatcher = local.client().getWatchClient().watch(prefix, WatchOption.builder().isPrefix(true).build(),
          response -> {
            for (WatchEvent event : response.getEvents()) {
              lag.written(event.getKeyValue().getKey().toString(StandardCharsets.UTF_8));
            }
          },
          error -> executor.schedule(this::rewatchLocal, 1, TimeUnit.SECONDS));
    } catch (RuntimeException e) {
      executor.schedule(this::rewatchLocal, 1, TimeUnit.SECONDS);
    }
  }

  private void rewatchLocal() {
    closeLocalWatcher();
    watchLocal();
  }

  private void closeLocalWatcher() {
    if (localWatcher != null) {
      try {
        localWatcher.close();
      } catch (RuntimeException e) {
        LOG.debug("remote {}: closing the local watch", remote, e);
      }
      localWatcher = null;
    }
  }

  // ---- status ----

  private boolean isReady() {
    return acceptedId != 0 && !watchingStopped && kinds.size() == Kind.values().length
        && kinds.values().stream().allMatch(k -> k.sync().canaryWritten().isDone());
  }

  private boolean isConnected() {
    List<WatchStore<?>> current = watches;
    return !current.isEmpty() && current.stream().allMatch(WatchStore::isWatching);
  }

  private int entries(Kind kind) {
    KindMirror<?> mirror = kinds.get(kind);
    return mirror == null ? 0 : mirror.sync().desiredCount();
  }

  private long skipped(Kind kind) {
    KindMirror<?> mirror = kinds.get(kind);
    return mirror == null ? 0 : mirror.watch().decodeFailures() + mirror.watch().rejected();
  }

  private void fail(String why) {
    failures.incrementAndGet();
    lastFailure = why;
    lastFailureMillis = settings.clock().millis();
    if (acceptedId == 0 || why.startsWith("cluster-config changed")) {
      status = why;
    }
  }

  /** The status of this remote now. */
  public RemoteStatus status() {
    Map<Kind, Integer> entries = new EnumMap<>(Kind.class);
    Map<Kind, Long> skipped = new EnumMap<>(Kind.class);
    List<Kind> synced = new ArrayList<>();
    for (Kind kind : Kind.values()) {
      entries.put(kind, entries(kind));
      skipped.put(kind, skipped(kind));
      KindMirror<?> mirror = kinds.get(kind);
      if (mirror != null && mirror.sync().canaryWritten().isDone()) {
        synced.add(kind);
      }
    }
    long reconnections = watches.stream().mapToLong(w -> Math.max(0, w.relists() - 1)).sum();
    return new RemoteStatus(remote, acceptedId, isConnected(), isReady(), entries, skipped, reconnections,
        lastFailure, lastFailureMillis, status, synced, lag.oldestPendingMillis());
  }

  /** Replaces the status line (the manager says a removal is pending). */
  void status(String line) {
    this.status = line;
  }

  /** The lag timer (benchmarks read its percentiles). */
  public Timer lagTimer() {
    return lag.timer();
  }

  // ---- stop ----

  /**
   * Stops reading the remote but keeps the local writers (and their lease) alive, so the mirror
   * stays as it is during the drain grace period.
   */
  void stopWatching() {
    watchingStopped = true;
    executor.execute(() -> {
      watches.forEach(WatchStore::close);
      watches = List.of();
    });
  }

  /** Stops everything; the mirrored keys stay (a new mirror of the same remote takes them over). */
  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // The kinds' watches are in this list too (WatchStore.close must not be called twice).
    watches.forEach(WatchStore::close);
    watches = List.of();
    kinds.values().forEach(k -> k.sync().close());
    closeLocalWatcher();
    ReloadingEtcdConnection connection = remoteConnection;
    if (connection != null) {
      connection.close();
    }
    claims.release(remote);
    meters.forEach(settings.registry()::remove);
  }

  /** Closes the mirror and deletes everything mirrored from the remote from the local etcd. */
  void drain() throws Exception {
    close();
    deleteMirror(local, remote);
  }

  /** Deletes {@code meshwork/v1/cache/<remote>/} from the local etcd. */
  static void deleteMirror(EtcdConnection local, String remote) throws Exception {
    var deleted = local.client().getKVClient()
        .delete(bytes(CacheKeys.mirrorPrefix(remote)), DeleteOption.builder().isPrefix(true).build())
        .get(30, TimeUnit.SECONDS);
    LOG.info("remote {}: drained {} keys from the mirror", remote, deleted.getDeleted());
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "RemoteMirror[" + remote + "]";
  }
}
