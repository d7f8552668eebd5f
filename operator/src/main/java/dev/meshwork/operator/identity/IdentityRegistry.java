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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
              Entry entry = new Entry(id, labels, now);
              byLabels.put(labels, entry);
              byId.put(id, entry);
              writer.put(Kind.IDENTITIES, Integer.toString(id), EtcdIdentityAllocator.identity(cluster.name(), id, labels));
            }
          });
    }
    log.info("restored {} identities of cluster {}", existing.size(), cluster.name());
  }

  /** The identity of {@code labels} for {@code pod}, allocating it if needed. */
  public synchronized int acquire(String pod, LabelSet labels) throws Exception {
    Entry current = byPod.get(pod);
    if (current != null && current.labels.equals(labels)) {
      return current.id;
    }
    Entry entry = byLabels.get(labels);
    if (entry == null) {
      int id = allocator.allocate(labels, byId::containsKey);
      entry = new Entry(id, labels, null);
      byLabels.put(labels, entry);
      byId.put(id, entry);
      allocated.increment();
      log.info("allocated identity {} for {}", id, labels);
    }
    writer.put(Kind.IDENTITIES, Integer.toString(entry.id), EtcdIdentityAllocator.identity(cluster.name(), entry.id, labels));
    if (current != null) {
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
