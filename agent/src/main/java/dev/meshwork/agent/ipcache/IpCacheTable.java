package dev.meshwork.agent.ipcache;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.IntConsumer;

/**
 * Every cluster's pod IPs with their identity and host (node) IP. One entry costs a boxed
 * Integer key and a boxed Long value (identity and host IP packed), which keeps 100k remote pods
 * in a few MiB. Thread-safe; each change reports the pod IP.
 */
public final class IpCacheTable {
  /** Where a pod IP points: its identity and the node that hosts it. */
  public record Owner(String cluster, int identity, int hostIp) {}

  private final String localCluster;
  private final Map<String, Map<Integer, Long>> byCluster = new HashMap<>();
  private volatile IntConsumer listener = ip -> {};

  public IpCacheTable(String localCluster) {
    this.localCluster = localCluster;
  }

  public void listener(IntConsumer listener) {
    this.listener = listener;
  }

  public void upsert(String cluster, int ip, int identity, int hostIp) {
    long packed = ((long) identity << 32) | (hostIp & 0xffffffffL);
    Long old;
    synchronized (this) {
      old = byCluster.computeIfAbsent(cluster, c -> new HashMap<>()).put(ip, packed);
    }
    if (old == null || old != packed) {
      listener.accept(ip);
    }
  }

  public void delete(String cluster, int ip) {
    Long old;
    synchronized (this) {
      Map<Integer, Long> entries = byCluster.get(cluster);
      old = entries == null ? null : entries.remove(ip);
    }
    if (old != null) {
      listener.accept(ip);
    }
  }

  public void drain(String cluster) {
    Map<Integer, Long> removed;
    synchronized (this) {
      removed = byCluster.remove(cluster);
    }
    if (removed != null) {
      removed.keySet().forEach(listener::accept);
    }
  }

  /**
   * Who owns {@code ip}: the local cluster if it knows the address, otherwise the first cluster
   * by name (a stable choice; validation keeps clusters' pod CIDRs apart).
   */
  public synchronized Optional<Owner> lookup(int ip) {
    Long local = byCluster.getOrDefault(localCluster, Map.of()).get(ip);
    if (local != null) {
      return Optional.of(owner(localCluster, local));
    }
    String bestCluster = null;
    Long best = null;
    for (Map.Entry<String, Map<Integer, Long>> e : byCluster.entrySet()) {
      Long v = e.getValue().get(ip);
      if (v != null && (bestCluster == null || e.getKey().compareTo(bestCluster) < 0)) {
        bestCluster = e.getKey();
        best = v;
      }
    }
    return best == null ? Optional.empty() : Optional.of(owner(bestCluster, best));
  }

  private static Owner owner(String cluster, long packed) {
    return new Owner(cluster, (int) (packed >>> 32), (int) packed);
  }

  public synchronized int count(String cluster) {
    return byCluster.getOrDefault(cluster, Map.of()).size();
  }

  /** Every IP any cluster knows (for a full resync). */
  public synchronized int[] allIps() {
    return byCluster.values().stream()
        .flatMap(m -> m.keySet().stream())
        .mapToInt(Integer::intValue)
        .distinct()
        .toArray();
  }
}
