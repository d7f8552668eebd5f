package dev.meshwork.agent.service;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * Every cluster's services, by cluster and "namespace/name": the global services of remote
 * clusters and every Service of the local cluster (see {@link ClusterServiceRecord}). Thread-safe; every change
 * reports the affected "namespace/name" to the listener, which recomputes the merge.
 */
public final class ServiceTable {
  private final String localCluster;
  private final Map<String, Map<String, ClusterServiceRecord>> byCluster = new HashMap<>();
  private volatile Consumer<String> listener = name -> {};

  public ServiceTable(String localCluster) {
    this.localCluster = localCluster;
  }

  public void listener(Consumer<String> listener) {
    this.listener = listener;
  }

  public String localCluster() {
    return localCluster;
  }

  public void upsert(ClusterServiceRecord record) {
    String key = record.qualifiedName().intern();
    synchronized (this) {
      ClusterServiceRecord old =
          byCluster.computeIfAbsent(record.cluster(), c -> new HashMap<>()).put(key, record);
      if (record.equals(old)) {
        return;
      }
    }
    listener.accept(key);
  }

  public void delete(String cluster, String namespace, String name) {
    String key = namespace + "/" + name;
    ClusterServiceRecord old;
    synchronized (this) {
      Map<String, ClusterServiceRecord> services = byCluster.get(cluster);
      old = services == null ? null : services.remove(key);
    }
    if (old != null) {
      listener.accept(old.qualifiedName());
    }
  }

  /** Removes everything {@code cluster} said. */
  public void drain(String cluster) {
    Map<String, ClusterServiceRecord> removed;
    synchronized (this) {
      removed = byCluster.remove(cluster);
    }
    if (removed != null) {
      removed.keySet().forEach(listener);
    }
  }

  public synchronized Optional<ClusterServiceRecord> local(String qualifiedName) {
    return Optional.ofNullable(byCluster.getOrDefault(localCluster, Map.of()).get(qualifiedName));
  }

  /** The records of every other cluster for this name. */
  public synchronized List<ClusterServiceRecord> remotes(String qualifiedName) {
    List<ClusterServiceRecord> out = new ArrayList<>();
    for (Map.Entry<String, Map<String, ClusterServiceRecord>> e : byCluster.entrySet()) {
      if (!e.getKey().equals(localCluster)) {
        ClusterServiceRecord r = e.getValue().get(qualifiedName);
        if (r != null) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /** The merged frontends of one local service; empty when the local cluster has no such service. */
  public List<MergedFrontend> merged(String qualifiedName) {
    Optional<ClusterServiceRecord> local;
    List<ClusterServiceRecord> remotes;
    synchronized (this) {
      local = local(qualifiedName);
      remotes = remotes(qualifiedName);
    }
    return local.map(l -> ServiceMerge.merge(l, remotes)).orElse(List.of());
  }

  /** The names of all local services, sorted. */
  public synchronized List<String> localNames() {
    return List.copyOf(new TreeMap<>(byCluster.getOrDefault(localCluster, Map.of())).keySet());
  }

  public synchronized int count(String cluster) {
    return byCluster.getOrDefault(cluster, Map.of()).size();
  }

  /** Backends exported by {@code cluster} (all its records), for status counters. */
  public synchronized int backendCount(String cluster) {
    int n = 0;
    for (ClusterServiceRecord r : byCluster.getOrDefault(cluster, Map.of()).values()) {
      n += r.backends().size();
    }
    return n;
  }
}
