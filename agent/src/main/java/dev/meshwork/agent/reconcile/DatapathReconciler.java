package dev.meshwork.agent.reconcile;

import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeRecord;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.service.MergedFrontend;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Service;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the merged tables into the datapath's desired state and applies only the differences.
 *
 * <p>Tables report changed keys (a pod IP, a pod CIDR, a service name); the keys are collected
 * in sets, so many changes to one key coalesce into one. A single thread drains all pending keys,
 * computes the desired entry of each from the tables (never from the event), compares it with
 * what it applied before, and hands every difference to the datapath in one {@link ChangeSet}.
 * A failed batch is retried with backoff; the keys stay pending, and newer changes join them.
 *
 * <p>Restart: the state already in the datapath is adopted at start (including reverse-NAT ids)
 * and nothing of it is deleted until {@link #restoreComplete()} says that every cluster's state
 * has been listed once; then what nobody claims any more is removed. This is how an agent
 * restart drains nothing.
 */
public final class DatapathReconciler {
  private static final Logger log = LoggerFactory.getLogger(DatapathReconciler.class);
  /** Identity of a pod CIDR entry: an address of the CIDR not yet in the ipcache is "world". */
  static final int WORLD = 2;
  /** Identity of this agent's own node IP. */
  static final int HOST = 1;
  /** Identity of every other node's IP, in any cluster. */
  static final int REMOTE_NODE = 6;

  private final Datapath datapath;
  private final NodeTable nodes;
  private final IpCacheTable ipcache;
  private final ServiceTable services;
  private final String localCluster;
  private final String nodeName;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition work = lock.newCondition();
  private Set<Integer> dirtyIps = new HashSet<>();
  private Set<IpPrefix> dirtyPrefixes = new HashSet<>();
  private Set<String> dirtyServices = new HashSet<>();
  private Set<L4Address> dirtyFrontends = new HashSet<>();
  private boolean resyncRequested;
  private boolean running;
  private long appliedGeneration;
  private long requestedGeneration;

  // Owned by the reconcile thread.
  private final Map<IpPrefix, IpCacheEntry> appliedIpcache = new HashMap<>();
  private final Map<L4Address, Service> appliedServices = new HashMap<>();
  private final Map<String, Set<L4Address>> frontendsByService = new HashMap<>();
  private final Map<L4Address, String> serviceByFrontend = new HashMap<>();
  private final RevNatIds revNatIds = new RevNatIds();
  private volatile Set<IpPrefix> restoredPrefixes = Set.of();
  private volatile Map<L4Address, Service> restoredServices = Map.of();
  private volatile Set<L4Address> restoredFrontends = Set.of();
  private volatile boolean restoring = true;
  private final Map<L4Address, Integer> revNatView = new java.util.concurrent.ConcurrentHashMap<>();
  private int ownNodeIp;

  private final Timer latency;
  private final Counter failures;
  private final Counter changes;
  private Thread thread;

  public DatapathReconciler(
      Datapath datapath,
      NodeTable nodes,
      IpCacheTable ipcache,
      ServiceTable services,
      String nodeName,
      MeterRegistry registry) {
    this.datapath = datapath;
    this.nodes = nodes;
    this.ipcache = ipcache;
    this.services = services;
    this.localCluster = services.localCluster();
    this.nodeName = nodeName;
    this.latency =
        Timer.builder("meshwork_agent_reconcile_duration")
            .description("Time to compute and apply one batch of datapath changes")
            .publishPercentiles(0.5, 0.99)
            .register(registry);
    this.failures =
        Counter.builder("meshwork_agent_reconcile_failures")
            .description("Datapath batches that failed and were retried")
            .register(registry);
    this.changes =
        Counter.builder("meshwork_agent_datapath_changes")
            .description("Individual datapath changes applied")
            .register(registry);
    nodes.listener(this::markPrefix);
    ipcache.listener(this::markIp);
    services.listener(this::markService);
  }

  /** Adopts what the datapath holds and starts the reconcile thread. */
  public void start() throws DatapathException {
    DatapathSnapshot snapshot = datapath.snapshot();
    appliedIpcache.putAll(snapshot.ipcache());
    appliedServices.putAll(snapshot.services());
    snapshot.services().forEach((frontend, s) -> revNatIds.restore(frontend, s.revNatId()));
    restoredPrefixes = Set.copyOf(snapshot.ipcache().keySet());
    restoredFrontends = Set.copyOf(snapshot.services().keySet());
    restoredServices = Map.copyOf(snapshot.services());
    publishRevNatView();
    log.info(
        "adopted {} ipcache entries and {} services from the datapath; none is removed before every cluster has been listed",
        snapshot.ipcache().size(),
        snapshot.services().size());
    lock.lock();
    try {
      running = true;
    } finally {
      lock.unlock();
    }
    thread = Thread.ofPlatform().name("datapath-reconciler").daemon().start(this::loop);
  }

  public void stop() {
    lock.lock();
    try {
      running = false;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    if (thread != null) {
      try {
        thread.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Every cluster has been listed once: entries adopted at start that no table claims are now
   * removed.
   */
  public void restoreComplete() {
    if (!restoring) {
      return;
    }
    lock.lock();
    try {
      restoring = false;
      dirtyPrefixes.addAll(restoredPrefixes);
      restoredPrefixes.forEach(p -> {
        if (p.length() == 32) dirtyIps.add(p.address());
      });
      dirtyFrontends.addAll(restoredFrontends);
      // Services kept the backends found at start until now: recompute them all.
      resyncRequested = true;
      requestedGeneration++;
      work.signalAll();
    } finally {
      lock.unlock();
    }
    log.info("restore complete: entries adopted at start that are no longer wanted will be removed");
  }

  public boolean restoring() {
    return restoring;
  }

  void markIp(int ip) {
    mark(() -> dirtyIps.add(ip));
  }

  void markPrefix(IpPrefix prefix) {
    mark(() -> dirtyPrefixes.add(prefix));
  }

  void markService(String qualifiedName) {
    mark(() -> dirtyServices.add(qualifiedName));
  }

  /** Recomputes every key (for example after the own node's IP changed). */
  public void resyncAll() {
    mark(() -> resyncRequested = true);
  }

  private void mark(Runnable change) {
    lock.lock();
    try {
      change.run();
      requestedGeneration++;
      work.signal();
    } finally {
      lock.unlock();
    }
  }

  /** The reverse-NAT id of a programmed frontend. */
  public Optional<Integer> revNatId(L4Address frontend) {
    return Optional.ofNullable(revNatView.get(frontend));
  }

  /** Blocks until every change reported before the call has been applied; for tests and benchmarks. */
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    lock.lock();
    try {
      long target = requestedGeneration;
      while (appliedGeneration < target) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        work.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void loop() {
    long backoffMillis = 0;
    while (true) {
      Set<Integer> ips;
      Set<IpPrefix> prefixes;
      Set<String> names;
      Set<L4Address> frontends;
      boolean resync;
      long generation;
      lock.lock();
      try {
        while (running
            && dirtyIps.isEmpty()
            && dirtyPrefixes.isEmpty()
            && dirtyServices.isEmpty()
            && dirtyFrontends.isEmpty()
            && !resyncRequested) {
          appliedGeneration = requestedGeneration;
          work.signalAll();
          work.awaitUninterruptibly();
        }
        if (!running) {
          return;
        }
        if (backoffMillis > 0) {
          // Retry after a failed batch; new changes join the pending keys meanwhile.
          work.awaitNanos(TimeUnit.MILLISECONDS.toNanos(backoffMillis));
          if (!running) {
            return;
          }
        }
        ips = dirtyIps;
        prefixes = dirtyPrefixes;
        names = dirtyServices;
        frontends = dirtyFrontends;
        resync = resyncRequested;
        dirtyIps = new HashSet<>();
        dirtyPrefixes = new HashSet<>();
        dirtyServices = new HashSet<>();
        dirtyFrontends = new HashSet<>();
        resyncRequested = false;
        generation = requestedGeneration;
      } catch (InterruptedException e) {
        return;
      } finally {
        lock.unlock();
      }
      try {
        reconcile(ips, prefixes, names, frontends, resync);
        backoffMillis = 0;
        lock.lock();
        try {
          appliedGeneration = Math.max(appliedGeneration, generation);
          work.signalAll();
        } finally {
          lock.unlock();
        }
      } catch (DatapathException | RuntimeException e) {
        failures.increment();
        backoffMillis = backoffMillis == 0 ? 100 : Math.min(backoffMillis * 2, 10_000);
        log.warn("datapath batch failed; retrying in {} ms: {}", backoffMillis, e.getMessage(), e);
        lock.lock();
        try {
          dirtyIps.addAll(ips);
          dirtyPrefixes.addAll(prefixes);
          dirtyServices.addAll(names);
          dirtyFrontends.addAll(frontends);
          resyncRequested |= resync;
        } finally {
          lock.unlock();
        }
      }
    }
  }

  private void reconcile(
      Set<Integer> ips,
      Set<IpPrefix> prefixes,
      Set<String> names,
      Set<L4Address> frontends,
      boolean resync)
      throws DatapathException {
    long start = System.nanoTime();
    int nodeIp = nodes.get(localCluster, nodeName).map(NodeRecord::internalIp).orElse(0);
    if (nodeIp != ownNodeIp) {
      ownNodeIp = nodeIp;
      resync = true;
    }
    if (resync) {
      ips = new HashSet<>(ips);
      prefixes = new HashSet<>(prefixes);
      names = new HashSet<>(names);
      for (int ip : ipcache.allIps()) ips.add(ip);
      for (IpPrefix p : appliedIpcache.keySet()) {
        if (p.length() == 32) ips.add(p.address());
        else prefixes.add(p);
      }
      for (NodeRecord n : nodes.all()) prefixes.addAll(NodeTable.prefixesOf(n));
      names.addAll(services.localNames());
      names.addAll(frontendsByService.keySet());
    }

    ChangeSet.Builder batch = ChangeSet.builder();
    Map<IpPrefix, IpCacheEntry> ipcacheAfter = new HashMap<>();
    Set<IpPrefix> ipcacheRemoved = new HashSet<>();
    for (int ip : ips) {
      diffIpcache(IpPrefix.host(ip), desiredHost(ip), batch, ipcacheAfter, ipcacheRemoved);
    }
    for (IpPrefix prefix : prefixes) {
      if (prefix.length() == 32) {
        diffIpcache(prefix, desiredHost(prefix.address()), batch, ipcacheAfter, ipcacheRemoved);
      } else {
        diffIpcache(prefix, desiredTunnel(prefix), batch, ipcacheAfter, ipcacheRemoved);
      }
    }

    Map<L4Address, Service> servicesAfter = new HashMap<>();
    Set<L4Address> servicesRemoved = new HashSet<>();
    Map<String, Set<L4Address>> ownershipAfter = new HashMap<>();
    for (String name : names) {
      Set<L4Address> wanted = new LinkedHashSet<>();
      for (MergedFrontend f : services.merged(name)) {
        wanted.add(f.frontend());
        Service desired =
            new Service(
                f.frontend(),
                f.kind(),
                revNatIds.idFor(f.frontend()),
                withRestoredBackends(f.frontend(), f.backendAddresses()),
                f.sessionAffinityTimeoutSeconds());
        if (!desired.equals(appliedServices.get(f.frontend()))) {
          batch.upsert(desired);
          servicesAfter.put(f.frontend(), desired);
        }
      }
      for (L4Address old : frontendsByService.getOrDefault(name, Set.of())) {
        if (!wanted.contains(old) && name.equals(serviceByFrontend.get(old))) {
          frontends = frontends.isEmpty() ? new HashSet<>() : frontends;
          frontends.add(old);
        }
      }
      ownershipAfter.put(name, wanted);
    }
    for (L4Address frontend : frontends) {
      boolean claimed = false;
      for (Map.Entry<String, Set<L4Address>> e : ownershipAfter.entrySet()) {
        claimed |= e.getValue().contains(frontend);
      }
      String owner = serviceByFrontend.get(frontend);
      if (!claimed && owner != null && !ownershipAfter.containsKey(owner)) {
        claimed = frontendsByService.getOrDefault(owner, Set.of()).contains(frontend);
      }
      boolean keepRestored = restoring && restoredFrontends.contains(frontend);
      if (!claimed && !keepRestored && appliedServices.containsKey(frontend)) {
        batch.deleteService(frontend);
        servicesRemoved.add(frontend);
      }
    }

    ChangeSet changeSet = batch.build();
    if (!changeSet.isEmpty()) {
      datapath.apply(changeSet);
      changes.increment(changeSet.size());
    }
    // Only now, after the datapath took the batch, is it "applied".
    ipcacheRemoved.forEach(appliedIpcache::remove);
    appliedIpcache.putAll(ipcacheAfter);
    for (L4Address f : servicesRemoved) {
      appliedServices.remove(f);
      revNatView.remove(f);
      serviceByFrontend.remove(f);
      revNatIds.release(f);
    }
    appliedServices.putAll(servicesAfter);
    servicesAfter.forEach((f, svc) -> revNatView.put(f, svc.revNatId()));
    ownershipAfter.forEach(
        (name, wanted) -> {
          Set<L4Address> previous = frontendsByService.remove(name);
          if (previous != null) {
            previous.forEach(f -> serviceByFrontend.remove(f, name));
          }
          if (!wanted.isEmpty()) {
            frontendsByService.put(name, wanted);
            wanted.forEach(f -> serviceByFrontend.put(f, name));
          }
        });
    // Frontends dropped by a name and not yet deleted keep their id only while programmed.
    for (L4Address f : new ArrayList<>(frontends)) {
      if (!appliedServices.containsKey(f)) {
        revNatIds.release(f);
      }
    }
    latency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    if (!changeSet.isEmpty()) {
      log.debug("applied {} datapath changes", changeSet.size());
    }
  }

  /**
   * While restoring, a service keeps the backends it had at start besides the ones known now:
   * a cluster not listed yet must not lose its backends to an agent restart.
   */
  private List<L4Address> withRestoredBackends(L4Address frontend, List<L4Address> wanted) {
    Service restored = restoring ? restoredServices.get(frontend) : null;
    if (restored == null) {
      return wanted;
    }
    java.util.TreeSet<L4Address> union = new java.util.TreeSet<>(wanted);
    union.addAll(restored.backends());
    return List.copyOf(union);
  }

  private void publishRevNatView() {
    appliedServices.forEach((f, s) -> revNatView.put(f, s.revNatId()));
  }

  /**
   * A node IP carries the host identity (own node) or remote-node; it is on the underlay, never
   * tunnelled. It wins over a pod entry for the same address: that is a host-network pod, which
   * is the node as far as policy is concerned.
   */
  private IpCacheEntry desiredHost(int ip) {
    Optional<NodeRecord> node = nodes.withIp(ip);
    if (node.isPresent()) {
      NodeRecord n = node.get();
      boolean own = n.cluster().equals(localCluster) && n.name().equals(nodeName);
      return new IpCacheEntry(IpPrefix.host(ip), own ? HOST : REMOTE_NODE, 0);
    }
    return ipcache
        .lookup(ip)
        .map(
            o ->
                new IpCacheEntry(
                    IpPrefix.host(ip), o.identity(), o.hostIp() == ownNodeIp ? 0 : o.hostIp()))
        .orElse(null);
  }

  private IpCacheEntry desiredTunnel(IpPrefix prefix) {
    return nodes
        .ownerOf(prefix)
        .filter(n -> n.internalIp() != 0)
        .filter(n -> !(n.cluster().equals(localCluster) && n.name().equals(nodeName)))
        .map(n -> new IpCacheEntry(prefix, WORLD, n.internalIp()))
        .orElse(null);
  }

  private void diffIpcache(
      IpPrefix prefix,
      IpCacheEntry desired,
      ChangeSet.Builder batch,
      Map<IpPrefix, IpCacheEntry> after,
      Set<IpPrefix> removed) {
    if (after.containsKey(prefix) || removed.contains(prefix)) {
      return;
    }
    IpCacheEntry applied = appliedIpcache.get(prefix);
    if (desired == null) {
      if (applied != null && !(restoring && restoredPrefixes.contains(prefix))) {
        batch.deleteIpCache(prefix);
        removed.add(prefix);
      }
    } else if (!desired.equals(applied)) {
      batch.upsert(desired);
      after.put(prefix, desired);
    }
  }
}
