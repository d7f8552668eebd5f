package dev.meshwork.operator.identity;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.state.ClusterStateWriter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which pods use which identity. A pod acquires the identity of its label set (allocated on first
 * use); an identity no pod uses is freed once it has been unused for the grace period, so that a
 * pod restarting or being relabelled back keeps its id and remote clusters see no churn.
 */
public final class IdentityRegistry {

  private static final Logger log = LoggerFactory.getLogger(IdentityRegistry.class);

  private final LocalCluster cluster;
  private final IdentityAllocator allocator;
  private final ClusterStateWriter writer;
  private final Clock clock;
  private final Duration grace;
  private final Counter allocated;
  private final Counter freed;

  // Guarded by this.
  private final Map<LabelSet, Entry> byLabels = new HashMap<>();
  private final Map<Integer, Entry> byId = new HashMap<>();
  private final Map<String, Entry> byPod = new HashMap<>();
  /** Allocations in progress, by label set. */
  private final Map<LabelSet, CompletableFuture<Integer>> inFlight = new HashMap<>();
  /** Ids being tried by allocations in progress. */
  private final Set<Integer> reserved = new HashSet<>();

  private static final class Entry {
    final int id;
    final LabelSet labels;
    final Set<String> pods = new HashSet<>();
    Instant unusedSince;

    Entry(int id, LabelSet labels, Instant unusedSince) {
      this.id = id;
      this.labels = labels;
      this.unusedSince = unusedSince;
    }
  }

  public IdentityRegistry(
      LocalCluster cluster,
      IdentityAllocator allocator,
      ClusterStateWriter writer,
      Clock clock,
      Duration grace,
      MeterRegistry registry) {
    this.cluster = cluster;
    this.allocator = allocator;
    this.writer = writer;
    this.clock = clock;
    this.grace = grace;
    this.allocated =
        Counter.builder("meshwork.operator.identities.allocated").register(registry);
    this.freed = Counter.builder("meshwork.operator.identities.freed").register(registry);
    Gauge.builder("meshwork.operator.identities", this, IdentityRegistry::size)
        .description("Identities held by this cluster")
        .register(registry);
  }

  /**
   * Loads the identities already in the store, so that pods keep their ids across operator
   * restarts. They count as unused until a pod acquires them.
   */
  public void restore() throws Exception {
    Map<LabelSet, Integer> existing = allocator.existing();
    Instant now = clock.instant();
    synchronized (this) {
      existing.forEach(
          (labels, id) -> {
            if (!byLabels.containsKey(labels) && !byId.containsKey(id)) {
              register(id, labels, now);
            }
          });
    }
    log.info("restored {} identities of cluster {}", existing.size(), cluster.name());
  }

  /**
   * Allocates the identities of label sets that pods are about to acquire (at start, those of
   * every pod in the informer cache) in as few etcd transactions as the allocator can, so that
   * the initial sync does not pay one round trip per label set. They count as unused until a pod
   * acquires them, like restored ones. A label set the range has no id left for is skipped here;
   * its pods then fail to acquire, each with the allocator's error.
   *
   * @return how many identities were allocated
   */
  public int prepare(Collection<LabelSet> labelSets) throws Exception {
    Map<LabelSet, CompletableFuture<Integer>> mine = new LinkedHashMap<>();
    synchronized (this) {
      for (LabelSet labels : labelSets) {
        if (!byLabels.containsKey(labels) && !inFlight.containsKey(labels) && !mine.containsKey(labels)) {
          CompletableFuture<Integer> allocation = new CompletableFuture<>();
          mine.put(labels, allocation);
          inFlight.put(labels, allocation);
        }
      }
    }
    if (mine.isEmpty()) {
      return 0;
    }
    Set<Integer> tried = new HashSet<>();
    Map<LabelSet, Integer> ids;
    long start = System.nanoTime();
    try {
      ids = allocator.allocateAll(mine.keySet(), candidate -> reserve(candidate, tried));
    } catch (Exception | Error e) {
      synchronized (this) {
        mine.keySet().forEach(inFlight::remove);
        reserved.removeAll(tried);
      }
      mine.values().forEach(allocation -> allocation.completeExceptionally(e));
      throw e;
    }
    Instant now = clock.instant();
    synchronized (this) {
      ids.forEach((labels, id) -> register(id, labels, now));
      mine.keySet().forEach(inFlight::remove);
      reserved.removeAll(tried);
    }
    allocated.increment(ids.size());
    mine.forEach(
        (labels, allocation) -> {
          Integer id = ids.get(labels);
          if (id != null) {
            allocation.complete(id);
          } else {
            allocation.completeExceptionally(
                new IdentitiesExhaustedException("cluster " + cluster.name() + " has no free identity for " + labels));
          }
        });
    log.info("allocated {} identities of cluster {} in bulk in {} ms",
        ids.size(), cluster.name(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    if (ids.size() < mine.size()) {
      log.error("cluster {} has no free identity left for {} label sets; their pods get none",
          cluster.name(), mine.size() - ids.size());
    }
    return ids.size();
  }

  /**
   * The identity of {@code labels} for {@code pod}, allocating it if needed. Allocation (an etcd
   * round trip) runs outside the registry lock, so pods whose label set is known are not held up
   * by it; concurrent requests for one new label set wait for a single allocation.
   */
  public int acquire(String pod, LabelSet labels) throws Exception {
    CompletableFuture<Integer> allocation;
    boolean mine = false;
    synchronized (this) {
      Entry current = byPod.get(pod);
      if (current != null && current.labels.equals(labels)) {
        return current.id;
      }
      Entry known = byLabels.get(labels);
      if (known != null) {
        return attach(pod, known);
      }
      allocation = inFlight.get(labels);
      if (allocation == null) {
        allocation = new CompletableFuture<>();
        inFlight.put(labels, allocation);
        mine = true;
      }
    }
    if (mine) {
      Set<Integer> tried = new HashSet<>();
      try {
        int id = allocator.allocate(labels, candidate -> reserve(candidate, tried));
        synchronized (this) {
          register(id, labels, clock.instant());
          inFlight.remove(labels);
          reserved.removeAll(tried);
        }
        allocated.increment();
        log.info("allocated identity {} for {}", id, labels);
        allocation.complete(id);
      } catch (Exception | Error e) {
        synchronized (this) {
          inFlight.remove(labels);
          reserved.removeAll(tried);
        }
        allocation.completeExceptionally(e);
        throw e;
      }
    } else {
      try {
        allocation.get();
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception cause ? cause : e;
      }
    }
    synchronized (this) {
      Entry entry = byLabels.get(labels);
      if (entry != null) {
        return attach(pod, entry);
      }
    }
    // Freed between allocation and now (only with a zero grace period): allocate again.
    return acquire(pod, labels);
  }

  /** Whether {@code id} is taken; otherwise reserves it for the allocation in progress. */
  private synchronized boolean reserve(int id, Set<Integer> tried) {
    if (byId.containsKey(id) || reserved.contains(id)) {
      return true;
    }
    reserved.add(id);
    tried.add(id);
    return false;
  }

  /**
   * Records an identity that is now held and makes its key desired in etcd: once, when it is
   * restored or allocated. Pods attaching to it later write nothing, so that 10,000 pods of 1,000
   * label sets cost 1,000 identity values to build and encode, not 10,000 (under this lock).
   */
  private Entry register(int id, LabelSet labels, Instant unusedSince) {
    Entry entry = new Entry(id, labels, unusedSince);
    byLabels.put(labels, entry);
    byId.put(id, entry);
    writer.put(Kind.IDENTITIES, Integer.toString(id), EtcdIdentityAllocator.identity(cluster.name(), id, labels));
    return entry;
  }

  private int attach(String pod, Entry entry) {
    Entry current = byPod.get(pod);
    if (current != null && current != entry) {
      drop(pod, current);
    }
    entry.pods.add(pod);
    entry.unusedSince = null;
    byPod.put(pod, entry);
    return entry.id;
  }

  /** The pod no longer needs an identity (deleted, finished, or lost its IP). */
  public synchronized void release(String pod) {
    Entry entry = byPod.remove(pod);
    if (entry != null) {
      drop(pod, entry);
    }
  }

  private void drop(String pod, Entry entry) {
    entry.pods.remove(pod);
    if (entry.pods.isEmpty()) {
      entry.unusedSince = clock.instant();
    }
  }

  /** Frees identities unused for at least the grace period; returns the freed ids. */
  public List<Integer> collectGarbage() {
    List<Entry> expired = new ArrayList<>();
    Instant cutoff = clock.instant().minus(grace);
    synchronized (this) {
      for (Entry entry : byId.values()) {
        if (entry.unusedSince != null && !entry.unusedSince.isAfter(cutoff)) {
          expired.add(entry);
        }
      }
      for (Entry entry : expired) {
        byId.remove(entry.id);
        byLabels.remove(entry.labels);
        writer.delete(Kind.IDENTITIES, Integer.toString(entry.id));
      }
    }
    List<Integer> ids = new ArrayList<>();
    for (Entry entry : expired) {
      try {
        allocator.free(entry.id, entry.labels);
      } catch (Exception e) {
        // The writer deletes the key as well; this was the belt to its braces.
        log.warn("identity {}: compare-and-delete failed: {}", entry.id, e.toString());
      } 
      freed.increment();
      ids.add(entry.id);
      log.info("freed identity {} ({}), unused for {}", entry.id, entry.labels, grace);
    }
    return ids;
  }

  public synchronized Optional<Integer> idOf(LabelSet labels) {
    return Optional.ofNullable(byLabels.get(labels)).map(e -> e.id);
  }

  public synchronized int size() {
    return byId.size();
  }
}
