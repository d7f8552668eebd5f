package dev.meshwork.agent.clustermesh;

import com.google.protobuf.Message;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.heartbeat.HeartbeatHealth;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's connection to one cluster's state: a remote cluster's etcd, its own cluster's etcd
 * where the local operator writes, or (cache mode) kvstore-sync's mirror of a remote in the local
 * etcd, read through {@link ClusterKeys}. It reads {@code cluster-config} first and refuses a cluster whose id
 * or name is wrong; once accepted it runs one WatchStore per kind (gated by the kind's synced
 * canary) plus one on the heartbeat, and feeds the merged tables through a
 * {@link ClusterStateIngest}.
 */
final class ClusterConnection implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterConnection.class);

  /** Where the connection is in its life. */
  enum Phase {
    WAITING_FOR_CONFIG,
    REFUSED,
    ACTIVE
  }

  private final String name;
  private final boolean local;
  private final ClusterMesh mesh;
  private final SwappableEtcdConnection connection;
  private final WatchStore<ClusterConfig> configStore;
  private final WatchStore<dev.meshwork.proto.v1.Heartbeat> heartbeatStore;
  private final HeartbeatHealth health;
  private final InstantSource clock;
  private final ClusterKeys keys;
  private RemoteClusterConfig config;
  // Cache mode: remote heartbeat timestamp -> arrival here, measured on heartbeats that change
  // while we watch (the first one seen after connecting only sets the baseline). -1: unknown.
  private volatile long mirrorLagMillis = -1;
  private volatile boolean heartbeatBaseline;

  // Guarded by this.
  private Phase phase = Phase.WAITING_FOR_CONFIG;
  private String refusal = "";
  private ClusterId id;
  private ClusterStateIngest ingest;
  private final List<WatchStore<? extends Message>> stores = new ArrayList<>();
  private final Set<Kind> syncedKinds = ConcurrentHashMap.newKeySet();
  private boolean wasConnected;
  private boolean everConnected;
  private int reconnections;
  private Instant disconnectedSince;
  private String lastFailure = "";
  private long lastFailureMillis;
  private boolean drainedByTtl;
  private boolean closed;

  ClusterConnection(
      String name,
      boolean local,
      ClusterKeys keys,
      RemoteClusterConfig config,
      EtcdConnection etcd,
      ClusterMesh mesh,
      InstantSource clock,
      Duration heartbeatThreshold) {
    this.name = name;
    this.local = local;
    this.keys = keys;
    this.config = config;
    this.mesh = mesh;
    this.clock = clock;
    this.connection = new SwappableEtcdConnection("etcd of cluster " + name, etcd);
    this.health = new HeartbeatHealth(clock, heartbeatThreshold);
    this.configStore =
        WatchStore.forKey(connection, keys.clusterConfigKey(), Codecs.CLUSTER_CONFIG, configHandler())
            .name("cluster-config of " + name)
            .build();
    this.heartbeatStore =
        WatchStore.forKey(connection, keys.heartbeatKey(), Codecs.HEARTBEAT, heartbeatHandler())
            .name("heartbeat of " + name)
            .build();
  }

  String name() {
    return name;
  }

  /** Cache mode: the last measured delay of the mirror, if one was measured. */
  Optional<Long> mirrorLagMillis() {
    long lag = mirrorLagMillis;
    return lag < 0 ? Optional.empty() : Optional.of(lag);
  }

  private WatchHandler<dev.meshwork.proto.v1.Heartbeat> heartbeatHandler() {
    WatchHandler<dev.meshwork.proto.v1.Heartbeat> health = this.health.handler();
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, dev.meshwork.proto.v1.Heartbeat value) {
        health.onUpsert(key, value);
        if (keys.cache()) {
          // A heartbeat listed at connect time may be a minute old: only later ones time the mirror.
          if (heartbeatBaseline) {
            mirrorLagMillis = Math.max(0, clock.millis() - value.getTimestampMillis());
          }
          heartbeatBaseline = true;
        }
      }

      @Override
      public void onDelete(String key) {
        health.onDelete(key);
      }
    };
  }

  boolean local() {
    return local;
  }

  RemoteClusterConfig config() {
    return config;
  }

  void start() {
    log.info("connecting to cluster {} at {}", name, config.endpoints());
    configStore.start();
    heartbeatStore.start();
  }

  /** The config file changed: keep all state, relist through a client built from the new file. */
  void reload(RemoteClusterConfig next, EtcdConnection etcd) {
    log.info("config of cluster {} changed, reconnecting to {}", name, next.endpoints());
    this.config = next;
    connection.swap(etcd);
    configStore.relistNow();
    heartbeatStore.relistNow();
    synchronized (this) {
      stores.forEach(WatchStore::relistNow);
    }
  }

  synchronized Optional<ClusterId> acceptedId() {
    return phase == Phase.ACTIVE ? Optional.of(id) : Optional.empty();
  }

  synchronized Phase phase() {
    return phase;
  }

  synchronized long rejectedKeys() {
    long n = ingest == null ? 0 : ingest.rejected();
    for (WatchStore<?> s : stores) n += s.decodeFailures();
    return n;
  }

  /** One of this cluster's applied keys had to be removed (see {@link ClusterStateIngest#evicted}). */
  void evicted(String why) {
    ClusterStateIngest current;
    synchronized (this) {
      current = ingest;
    }
    if (current != null) current.evicted(why);
  }

  private WatchHandler<ClusterConfig> configHandler() {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, ClusterConfig value) {
        onClusterConfig(value);
      }

      @Override
      public void onDelete(String key) {
        failure("cluster-config was deleted; keeping the cluster's state");
      }
    };
  }

  private synchronized void onClusterConfig(ClusterConfig cc) {
    if (closed) {
      return; // a config that arrived while the cluster was being removed
    }
    Optional<String> refused = mesh.refusal(name, local, cc);
    if (refused.isPresent()) {
      refusal = refused.get();
      failure("refused: " + refusal);
      log.error("cluster {} refused: {}", name, refusal);
      if (phase == Phase.ACTIVE) {
        stopStores();
        ingest.drain();
        ingest = null;
      }
      phase = Phase.REFUSED;
      mesh.clusterChanged();
      return;
    }
    ClusterId newId = ClusterId.of(cc.getId());
    if (phase == Phase.ACTIVE && newId.equals(id)) {
      return;
    }
    if (phase == Phase.ACTIVE) {
      log.warn("cluster {} changed its id from {} to {}: resyncing it from scratch", name, id, newId);
      stopStores();
      ingest.drain();
    }
    id = newId;
    refusal = "";
    phase = Phase.ACTIVE;
    startStores();
    log.info("cluster {} accepted with id {}", name, id.value());
    mesh.clusterChanged();
  }

  private void startStores() {
    syncedKinds.clear();
    wasConnected = false; // connectivity is tracked from here on, on the state stores
    disconnectedSince = null;
    ingest = mesh.ingestFor(name, local, id, keys.layout(), this::failure);
    stores.add(store(Kind.NODES, Codecs.NODE, ingest.nodeHandler(() -> synced(Kind.NODES)), ingest.nodeValidator()));
    stores.add(store(Kind.SERVICES, Codecs.SERVICE, ingest.serviceHandler(() -> synced(Kind.SERVICES)), ingest.serviceValidator()));
    stores.add(store(Kind.IDENTITIES, Codecs.IDENTITY, ingest.identityHandler(() -> synced(Kind.IDENTITIES)), ingest.identityValidator()));
    stores.add(store(Kind.IPCACHE, Codecs.IPCACHE, ingest.ipcacheHandler(() -> synced(Kind.IPCACHE)), ingest.ipcacheValidator()));
    stores.forEach(WatchStore::start);
  }

  private <T extends Message> WatchStore<T> store(
      Kind kind,
      dev.meshwork.kvstore.codec.Codec<T> codec,
      WatchHandler<T> handler,
      dev.meshwork.kvstore.watch.KeyValidator<T> validator) {
    return WatchStore.builder(connection, keys.kindPrefix(kind), codec, handler)
        .keyValidator(validator)
        .syncedCanary(keys.layout().syncedKey(name, kind))
        .meterRegistry(mesh.registry())
        .name(kind.segment() + " of " + name)
        .build();
  }

  private void synced(Kind kind) {
    syncedKinds.add(kind);
    log.info("cluster {}: {} synced", name, kind.segment());
    mesh.clusterChanged();
  }

  private void stopStores() {
    stores.forEach(WatchStore::close);
    stores.clear();
    syncedKinds.clear();
  }

  private synchronized void failure(String what) {
    lastFailure = what;
    lastFailureMillis = clock.millis();
    mesh.countFailure(name);
  }

  synchronized boolean connected() {
    if (phase != Phase.ACTIVE) {
      return configStore.isWatching();
    }
    for (WatchStore<?> s : stores) {
      if (!s.isWatching()) return false;
    }
    return !stores.isEmpty();
  }

  synchronized boolean ready() {
    return phase == Phase.ACTIVE && syncedKinds.size() == Kind.values().length && connected();
  }

  /**
   * Called periodically: counts reconnections, records disconnects, and drains the cluster once
   * it has been unreachable for longer than {@code cacheTtl} (when set). A drained cluster's
   * stores are rebuilt so that everything is delivered again when it comes back.
   */
  synchronized void poll(Optional<Duration> cacheTtl) {
    if (phase != Phase.ACTIVE) {
      return;
    }
    boolean now = observeConnectivity();
    if (!now && cacheTtl.isPresent() && disconnectedSince != null && !drainedByTtl && phase == Phase.ACTIVE
        && Duration.between(disconnectedSince, clock.instant()).compareTo(cacheTtl.get()) > 0) {
      log.warn("cluster {}: unreachable for more than {}; draining its state", name, cacheTtl.get());
      failure("unreachable for longer than the cache TTL " + cacheTtl.get() + "; state drained");
      stopStores();
      ingest.drain();
      startStores();
      drainedByTtl = true;
      disconnectedSince = clock.instant();
      mesh.clusterChanged();
    }
  }

  /**
   * Records a change of connectivity: counts reconnections and remembers since when the cluster
   * is unreachable. Called by the periodic poll and whenever the status is read, so that short
   * connections are not missed.
   */
  private boolean observeConnectivity() {
    boolean now = connected();
    if (phase != Phase.ACTIVE) {
      return now;
    }
    if (now && !wasConnected) {
      if (everConnected) {
        reconnections++;
        log.info("cluster {}: reconnected (reconnection {})", name, reconnections);
      }
      everConnected = true;
      disconnectedSince = null;
      drainedByTtl = false;
    } else if (!now && wasConnected) {
      disconnectedSince = clock.instant();
      failure("connection to etcd lost; keeping all state of the cluster");
      log.warn("cluster {}: connection lost; keeping its state programmed", name);
    }
    wasConnected = now;
    return now;
  }

  /** Stops reading; with {@code drain} also removes all the cluster's state from the tables. */
  @Override
  public void close() {
    close(true);
  }

  synchronized void close(boolean drain) {
    closed = true;
    configStore.close();
    heartbeatStore.close();
    stopStores();
    if (drain && ingest != null) {
      ingest.drain();
    }
    connection.close();
  }

  synchronized RemoteClusterStatus status(
      int nodes, int endpoints, int identities, int services) {
    observeConnectivity();
    RemoteClusterStatus.Builder b =
        RemoteClusterStatus.newBuilder()
            .setName(name)
            .setId(id == null ? 0 : id.value())
            .setConnected(connected())
            .setReady(ready())
            .setNodes(nodes)
            .setEndpoints(endpoints)
            .setIdentities(identities)
            .setServices(services)
            .setReconnections(reconnections)
            .setLastFailure(lastFailure)
            .setLastFailureMillis(lastFailureMillis);
    mirrorLagMillis().ifPresent(lag -> b.setMirrorLagMillis(lag).setMirrorLagKnown(true));
    EnumSet<Kind> synced = EnumSet.noneOf(Kind.class);
    synced.addAll(syncedKinds);
    synced.forEach(k -> b.addSyncedKinds(k.segment()));
    b.setStatus(statusLine());
    return b.build();
  }

  private String statusLine() {
    return switch (phase) {
      case WAITING_FOR_CONFIG -> configStore.isWatching()
          ? "waiting for cluster-config " + keys.clusterConfigKey()
              + (keys.cache() ? " (written by kvstore-sync once it accepted the remote)" : "")
          : "connecting to " + (keys.cache() ? "the local etcd (kvstore-sync cache) at " : "") + config.endpoints();
      case REFUSED -> "refused: " + refusal;
      case ACTIVE -> {
        if (!connected()) {
          yield "disconnected" + (disconnectedSince == null ? "" : " since " + disconnectedSince) + "; keeping its state";
        }
        if (syncedKinds.size() < Kind.values().length) {
          yield "syncing (" + syncedKinds.size() + "/" + Kind.values().length + " kinds synced)";
        }
        if (!health.healthy()) {
          yield "ready; heartbeat "
              + health.age().map(a -> "is " + a.toSeconds() + " s old").orElse("not seen yet");
        }
        yield "ready";
      }
    };
  }
}
