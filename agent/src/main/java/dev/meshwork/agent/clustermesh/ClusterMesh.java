package dev.meshwork.agent.clustermesh;

import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.ReloadingEtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The set of clusters this agent reads: its own cluster's etcd and one per file in the
 * clustermesh config directory (file name = cluster name, the kvstore config format). The
 * directory is rescanned periodically: a new file connects, a changed file reconnects keeping
 * all state, a removed file drains the cluster. Cluster ids are checked mesh-wide here.
 *
 * <p>With {@link Source#CACHE} the files only name the remotes: each remote is read from
 * kvstore-sync's mirror in the local etcd ({@link ClusterKeys#cache}), all over the one local
 * connection, with the same validation, canaries, failure semantics and status.
 *
 * <p>On start, the reconciler keeps whatever the datapath already holds until every cluster
 * configured at start has been listed completely (or refused, or removed): an agent restart
 * drains nothing.
 */
public final class ClusterMesh {
  private static final Logger log = LoggerFactory.getLogger(ClusterMesh.class);

  /** Where remote clusters are read. */
  public enum Source {
    /** Each remote's own etcd. */
    DIRECT,
    /** kvstore-sync's mirror of every remote in the local etcd. */
    CACHE;

    public String label() {
      return this == DIRECT ? "direct" : "cache";
    }
  }

  /**
   * Settings of the cluster mesh.
   *
   * @param source where remote clusters are read
   * @param localServicesElsewhere the local cluster's services come from its Kubernetes API: the
   *     service keys of the local etcd are validated but not applied
   */
  public record Settings(
      String localCluster,
      ClusterId localClusterId,
      Optional<Path> localKvstoreConfig,
      Optional<Path> configDirectory,
      Optional<Duration> cacheTtl,
      Duration heartbeatThreshold,
      Duration pollInterval,
      Source source,
      boolean localServicesElsewhere) {

    public Settings(
        String localCluster,
        ClusterId localClusterId,
        Optional<Path> localKvstoreConfig,
        Optional<Path> configDirectory,
        Optional<Duration> cacheTtl,
        Duration heartbeatThreshold,
        Duration pollInterval) {
      this(localCluster, localClusterId, localKvstoreConfig, configDirectory, cacheTtl, heartbeatThreshold,
          pollInterval, Source.DIRECT, false);
    }
  }

  /** Opens an etcd connection for a cluster config (a seam for tests). */
  public interface Connector {
    EtcdConnection open(RemoteClusterConfig config);
  }

  private final Settings settings;
  private final NodeTable nodes;
  private final ServiceTable services;
  private final IdentityTable identities;
  private final IpCacheTable ipcache;
  private final DatapathReconciler reconciler;
  private final MeterRegistry registry;
  private final InstantSource clock;
  private final Connector connector;
  private final ScheduledExecutorService executor;

  // Guarded by this.
  private final Map<String, ClusterConnection> remotes = new TreeMap<>();
  private final Map<String, byte[]> fileContents = new HashMap<>();
  private final Map<String, String> invalidFiles = new TreeMap<>();
  private final Map<String, Integer> claimedIds = new HashMap<>(); // guarded by itself
  private final Map<String, List<Meter>> meters = new HashMap<>();
  private ClusterConnection localConnection;
  private RemoteClusterConfig localConfig;
  private EtcdConnection sharedLocal; // cache mode: the one connection every cluster is read through
  private Set<String> awaitingInitialSync;
  private final List<java.util.function.BooleanSupplier> restoreGates = new java.util.concurrent.CopyOnWriteArrayList<>();

  public ClusterMesh(
      Settings settings,
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      IpCacheTable ipcache,
      DatapathReconciler reconciler,
      MeterRegistry registry,
      InstantSource clock) {
    this(settings, nodes, services, identities, ipcache, reconciler, registry, clock, ReloadingEtcdConnection::open);
  }

  public ClusterMesh(
      Settings settings,
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      IpCacheTable ipcache,
      DatapathReconciler reconciler,
      MeterRegistry registry,
      InstantSource clock,
      Connector connector) {
    this.settings = settings;
    this.nodes = nodes;
    this.services = services;
    this.identities = identities;
    this.ipcache = ipcache;
    this.reconciler = reconciler;
    this.registry = registry;
    this.clock = clock;
    this.connector = connector;
    this.executor =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("clustermesh").daemon().unstarted(r));
  }

  MeterRegistry registry() {
    return registry;
  }

  public String localCluster() {
    return settings.localCluster();
  }

  public ClusterId localClusterId() {
    return settings.localClusterId();
  }

  /**
   * Another source of datapath state that must have listed before the reconciler removes what it
   * found at start (e.g. the local Services from the Kubernetes API). Call before {@link #start}.
   */
  public void gateRestore(java.util.function.BooleanSupplier listed) {
    restoreGates.add(listed);
  }

  /** Connects to the local cluster and to every configured remote, then keeps watching the directory. */
  public synchronized void start() {
    Gauge.builder("meshwork_agent_clustermesh_source", () -> 1)
        .description("Where remote clusters are read: source=direct (each remote etcd) or cache (kvstore-sync)")
        .tag("source", settings.source().label())
        .register(registry);
    Optional<Path> localFile =
        settings.localKvstoreConfig()
            .or(() -> settings.configDirectory().map(d -> d.resolve(settings.localCluster())).filter(Files::isRegularFile));
    if (localFile.isPresent()) {
      try {
        RemoteClusterConfig config = RemoteClusterConfig.load(localFile.get());
        if (!config.cluster().equals(settings.localCluster())) {
          config = new RemoteClusterConfig(settings.localCluster(), config.source(), config.endpoints(), config.tls());
        }
        localConfig = config;
        if (settings.source() == Source.CACHE) {
          sharedLocal = connector.open(config);
        }
        localConnection = open(settings.localCluster(), true, config);
      } catch (RuntimeException e) {
        throw new IllegalArgumentException("local kvstore config " + localFile.get() + ": " + e.getMessage(), e);
      }
    } else if (settings.source() == Source.CACHE) {
      throw new IllegalArgumentException(
          "--clustermesh-source=cache reads every remote cluster from the local etcd, but this cluster's etcd is not"
              + " configured: set --kvstore-config (MESHWORK_KVSTORE_CONFIG) or put a file named "
              + settings.localCluster() + " in the clustermesh config directory");
    } else {
      log.warn("no kvstore config for the local cluster {}: only remote clusters are read", settings.localCluster());
    }
    scanDirectory();
    awaitingInitialSync = new HashSet<>(remotes.keySet());
    awaitingInitialSync.addAll(invalidFiles.keySet());
    if (localConnection != null) awaitingInitialSync.add(settings.localCluster());
    long every = settings.pollInterval().toMillis();
    executor.scheduleWithFixedDelay(this::pollSafely, every, every, TimeUnit.MILLISECONDS);
  }

  public void stop() {
    executor.shutdownNow();
    synchronized (this) {
      // An agent that stops drains nothing: the datapath keeps what it has.
      remotes.values().forEach(c -> c.close(false));
      if (localConnection != null) localConnection.close(false);
      if (sharedLocal != null) sharedLocal.close();
    }
  }

  /** Something changed in a cluster's readiness: re-evaluate soon (not under the caller's lock). */
  void clusterChanged() {
    if (!executor.isShutdown()) {
      try {
        executor.execute(this::pollSafely);
      } catch (RuntimeException ignored) {
        // shutting down
      }
    }
  }

  private void pollSafely() {
    try {
      poll();
    } catch (RuntimeException e) {
      log.error("clustermesh poll failed", e);
    }
  }

  private synchronized void poll() {
    scanDirectory();
    if (localConnection != null) localConnection.poll(Optional.empty());
    remotes.values().forEach(c -> c.poll(settings.cacheTtl()));
    if (awaitingInitialSync != null && !awaitingInitialSync.isEmpty()) {
      awaitingInitialSync.removeIf(
          name -> {
            ClusterConnection c = name.equals(settings.localCluster()) ? localConnection : remotes.get(name);
            return c == null || c.ready() || c.phase() == ClusterConnection.Phase.REFUSED;
          });
    }
    if (awaitingInitialSync != null && awaitingInitialSync.isEmpty() && reconciler.restoring()
        && restoreGates.stream().allMatch(java.util.function.BooleanSupplier::getAsBoolean)) {
      log.info("every cluster configured at start has been listed: removing stale datapath state");
      reconciler.restoreComplete();
    }
  }

  /** Connects new files, reconnects changed ones, drains removed ones. */
  private void scanDirectory() {
    if (settings.configDirectory().isEmpty()) {
      return;
    }
    Path dir = settings.configDirectory().get();
    Map<String, Path> present = new TreeMap<>();
    if (Files.isDirectory(dir)) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
        for (Path file : files) {
          String fileName = file.getFileName().toString();
          // Kubernetes secret volumes hold "..data" and timestamped directories besides the keys.
          if (fileName.startsWith(".") || !Files.isRegularFile(file)) continue;
          String cluster = fileName.replaceFirst("\\.(yaml|yml)$", "");
          // The mounted clustermesh Secret also holds <remote>.etcd-client.crt and friends; a
          // cluster name has no dot, so those are never configs. Other bad names are reported.
          if (cluster.contains(".") || cluster.equals(settings.localCluster())) continue;
          present.put(cluster, file);
        }
      } catch (IOException e) {
        log.warn("cannot read clustermesh config directory {}: {}", dir, e.toString());
        return;
      }
    }
    for (String gone : new ArrayList<>(remotes.keySet())) {
      if (!present.containsKey(gone)) {
        log.info("config of cluster {} removed: draining its state", gone);
        remove(gone).close(true);
      }
    }
    invalidFiles.keySet().retainAll(present.keySet());
    fileContents.keySet().retainAll(present.keySet());
    for (Map.Entry<String, Path> e : present.entrySet()) {
      String cluster = e.getKey();
      byte[] content;
      try {
        content = Files.readAllBytes(e.getValue());
      } catch (IOException ex) {
        continue; // being replaced; next scan
      }
      if (Arrays.equals(content, fileContents.get(cluster))) continue;
      fileContents.put(cluster, content);
      Optional<String> badName = ClusterName.problem(cluster);
      if (badName.isPresent()) {
        invalid(cluster, "config file " + e.getValue() + ": the file name must be a cluster name: " + badName.get());
        continue;
      }
      RemoteClusterConfig config;
      try {
        config = RemoteClusterConfig.load(e.getValue());
      } catch (RuntimeException ex) {
        invalid(cluster, ex.getMessage());
        continue;
      }
      invalidFiles.remove(cluster);
      ClusterConnection existing = remotes.get(cluster);
      if (existing == null) {
        remotes.put(cluster, open(cluster, false, config));
      } else if (settings.source() == Source.CACHE) {
        log.debug("config of cluster {} changed; in cache mode only its name is used", cluster);
      } else {
        try {
          existing.reload(config, connector.open(config));
        } catch (RuntimeException ex) {
          invalid(cluster, ex.getMessage());
        }
      }
    }
  }

  private void invalid(String cluster, String why) {
    if (!why.equals(invalidFiles.put(cluster, why))) {
      log.error("cluster {}: {}", cluster, why);
    }
  }

  private ClusterConnection open(String cluster, boolean local, RemoteClusterConfig config) {
    ClusterConnection c;
    if (sharedLocal != null) {
      // Cache mode: every cluster (the local one directly, remotes through their mirror) over one connection.
      c = new ClusterConnection(cluster, local, local ? ClusterKeys.direct(cluster) : ClusterKeys.cache(cluster),
          localConfig, new SharedEtcdConnection(sharedLocal), this, clock, settings.heartbeatThreshold());
    } else {
      c = new ClusterConnection(cluster, local, ClusterKeys.direct(cluster), config, connector.open(config), this, clock,
          settings.heartbeatThreshold());
    }
    registerMeters(c);
    c.start();
    return c;
  }

  private ClusterConnection remove(String cluster) {
    ClusterConnection c = remotes.remove(cluster);
    synchronized (claimedIds) {
      claimedIds.remove(cluster);
    }
    for (Meter m : meters.getOrDefault(cluster, List.of())) {
      registry.remove(m);
    }
    meters.remove(cluster);
    return c;
  }

  /**
   * Why {@code cc}, read from the etcd configured as {@code name}, cannot be accepted; empty
   * when it is accepted (and then its id is claimed for this cluster).
   */
  Optional<String> refusal(String name, boolean local, ClusterConfig cc) {
    // Called under the connection's lock: only the claims lock may be taken here (lock order).
    synchronized (claimedIds) {
      return claim(name, local, cc);
    }
  }

  private Optional<String> claim(String name, boolean local, ClusterConfig cc) {
    claimedIds.remove(name);
    if (!cc.getName().equals(name)) {
      return Optional.of("cluster-config names the cluster '" + cc.getName() + "', but it was configured as '" + name + "'");
    }
    if (!ClusterId.isValid(cc.getId())) {
      return Optional.of("cluster id " + Integer.toUnsignedString(cc.getId()) + " is invalid (must be 1..255)");
    }
    if (local && cc.getId() != settings.localClusterId().value()) {
      return Optional.of("cluster id " + cc.getId() + " in etcd differs from this agent's cluster id " + settings.localClusterId().value());
    }
    if (!local && cc.getId() == settings.localClusterId().value()) {
      return Optional.of("cluster id " + cc.getId() + " is also used by " + settings.localCluster() + " (this cluster)");
    }
    for (Map.Entry<String, Integer> claim : claimedIds.entrySet()) {
      if (claim.getValue() == cc.getId() && !claim.getKey().equals(settings.localCluster())) {
        return Optional.of("cluster id " + cc.getId() + " is also used by " + claim.getKey());
      }
    }
    claimedIds.put(name, cc.getId());
    return Optional.empty();
  }

  ClusterStateIngest ingestFor(
      String cluster, boolean local, ClusterId id, dev.meshwork.kvstore.key.KeyLayout layout, Consumer<String> onRejected) {
    boolean applyServices = !(local && settings.localServicesElsewhere());
    return new ClusterStateIngest(
        cluster, id, layout, applyServices, nodes, services, identities, ipcache, onRejected, this::evicted);
  }

  /** A node of {@code cluster} was removed because the local cluster claims its addresses. */
  private void evicted(String cluster, String why) {
    ClusterConnection c;
    synchronized (this) {
      c = remotes.get(cluster);
    }
    if (c != null) c.evicted(why);
  }

  void countFailure(String cluster) {
    Counter.builder("meshwork_agent_clustermesh_failures")
        .description("Failures seen per cluster: lost connections, refusals, rejected keys")
        .tag("cluster", cluster)
        .register(registry)
        .increment();
  }

  private void registerMeters(ClusterConnection c) {
    String cluster = c.name();
    List<Meter> list = new ArrayList<>();
    list.add(Gauge.builder("meshwork_agent_clustermesh_ready", c, x -> x.ready() ? 1 : 0)
        .description("1 while the cluster is connected, accepted and synced")
        .tag("cluster", cluster).register(registry));
    if (!c.local() && settings.source() == Source.CACHE) {
      list.add(Gauge.builder("meshwork_agent_clustermesh_mirror_lag_seconds", c,
              x -> x.mirrorLagMillis().map(ms -> ms / 1000.0).orElse(Double.NaN))
          .description("Cache mode: delay of the remote's last heartbeat through kvstore-sync to this agent")
          .tag("cluster", cluster).register(registry));
    }
    list.add(entries(cluster, "nodes", () -> nodes.count(cluster)));
    list.add(entries(cluster, "services", () -> services.count(cluster)));
    list.add(entries(cluster, "identities", () -> identities.count(cluster)));
    list.add(entries(cluster, "ipcache", () -> ipcache.count(cluster)));
    list.add(FunctionCounter.builder("meshwork_agent_clustermesh_rejected_keys", c, ClusterConnection::rejectedKeys)
        .description("Keys skipped because they did not decode or did not belong to the cluster")
        .tag("cluster", cluster).register(registry));
    meters.put(cluster, list);
  }

  private Meter entries(String cluster, String kind, java.util.function.IntSupplier count) {
    return Gauge.builder("meshwork_agent_clustermesh_entries", count, s -> s.getAsInt())
        .description("Entries learned from a cluster, per kind")
        .strongReference(true) // the supplier lambda is referenced only by the gauge
        .tag("cluster", cluster)
        .tag("kind", kind)
        .register(registry);
  }

  /** Keys skipped for {@code cluster} so far (undecodable or invalid). */
  public synchronized long rejectedKeys(String cluster) {
    ClusterConnection c = cluster.equals(settings.localCluster()) ? localConnection : remotes.get(cluster);
    return c == null ? 0 : c.rejectedKeys();
  }

  /** Whether the named cluster (local or remote) is ready. */
  public synchronized boolean ready(String cluster) {
    ClusterConnection c = cluster.equals(settings.localCluster()) ? localConnection : remotes.get(cluster);
    return c != null && c.ready();
  }

  /** {@code meshwork clustermesh status}: one entry per configured remote cluster. */
  public synchronized ClusterMeshStatus status() {
    ClusterMeshStatus.Builder b =
        ClusterMeshStatus.newBuilder()
            .setLocalCluster(settings.localCluster())
            .setLocalClusterId(settings.localClusterId().value())
            .setSource(settings.source().label());
    Set<String> names = new java.util.TreeSet<>(remotes.keySet());
    names.addAll(invalidFiles.keySet());
    for (String name : names) {
      ClusterConnection c = remotes.get(name);
      if (c == null) {
        b.addRemotes(RemoteClusterStatus.newBuilder()
            .setName(name)
            .setStatus("invalid config: " + invalidFiles.get(name))
            .setLastFailure(invalidFiles.get(name)));
      } else {
        b.addRemotes(c.status(nodes.count(name), ipcache.count(name), identities.count(name), services.count(name)));
      }
    }
    return b.build();
  }
}
