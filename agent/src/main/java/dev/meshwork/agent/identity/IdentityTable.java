package dev.meshwork.agent.identity;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Every cluster's security identities with their labels. Label strings are interned: the same
 * namespace, cluster and service-account labels repeat across thousands of identities.
 */
public final class IdentityTable {
  /** An identity as listed: id, labels, owning cluster ("reserved" below 256). */
  public record IdentityEntry(int id, List<String> labels, String cluster) {}

  /** Cilium's reserved identities, shared by every cluster. */
  public static final List<IdentityEntry> RESERVED =
      List.of(
          new IdentityEntry(1, List.of("reserved:host"), "reserved"),
          new IdentityEntry(2, List.of("reserved:world"), "reserved"),
          new IdentityEntry(3, List.of("reserved:unmanaged"), "reserved"),
          new IdentityEntry(4, List.of("reserved:health"), "reserved"),
          new IdentityEntry(5, List.of("reserved:init"), "reserved"),
          new IdentityEntry(6, List.of("reserved:remote-node"), "reserved"),
          new IdentityEntry(7, List.of("reserved:kube-apiserver"), "reserved"));

  /** Told of every learned identity that appears, changes or goes (the policy engine). */
  public interface Listener {
    void upserted(int id, List<String> labels);

    void deleted(int id);
  }

  private final Map<String, Map<Integer, String[]>> byCluster = new HashMap<>();
  private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Registers a listener; it is called under the table's lock, in the order of the changes. */
  public void listener(Listener listener) {
    listeners.add(listener);
  }

  public void upsert(String cluster, int id, List<String> labels) {
    String[] interned = labels.stream().map(String::intern).toArray(String[]::new);
    synchronized (this) {
      String[] previous = byCluster.computeIfAbsent(cluster, c -> new HashMap<>()).put(id, interned);
      if (!Arrays.equals(previous, interned)) {
        List<String> view = Arrays.asList(interned);
        listeners.forEach(l -> l.upserted(id, view));
      }
    }
  }

  public synchronized void delete(String cluster, int id) {
    Map<Integer, String[]> ids = byCluster.get(cluster);
    if (ids != null && ids.remove(id) != null) {
      listeners.forEach(l -> l.deleted(id));
    }
  }

  public synchronized void drain(String cluster) {
    Map<Integer, String[]> ids = byCluster.remove(cluster);
    if (ids != null) {
      ids.keySet().forEach(id -> listeners.forEach(l -> l.deleted(id)));
    }
  }

  public synchronized List<String> labels(int id) {
    for (IdentityEntry r : RESERVED) {
      if (r.id() == id) {
        return r.labels();
      }
    }
    for (Map<Integer, String[]> ids : byCluster.values()) {
      String[] labels = ids.get(id);
      if (labels != null) {
        return List.of(labels);
      }
    }
    return List.of();
  }

  /**
   * The id {@code cluster} gave the label set {@code labels}, if this table has it. Label sets are
   * compared sorted (the operator publishes them sorted). A scan: called by CNI ADDs, not per packet.
   */
  public synchronized java.util.OptionalInt idOf(String cluster, List<String> labels) {
    String[] wanted = labels.stream().sorted().toArray(String[]::new);
    for (Map.Entry<Integer, String[]> e : byCluster.getOrDefault(cluster, Map.of()).entrySet()) {
      if (Arrays.equals(e.getValue(), wanted)) {
        return java.util.OptionalInt.of(e.getKey());
      }
    }
    return java.util.OptionalInt.empty();
  }

  /** Reserved identities first, then every cluster's, by id. */
  public synchronized List<IdentityEntry> all() {
    List<IdentityEntry> out = new ArrayList<>(RESERVED);
    List<IdentityEntry> learned = new ArrayList<>();
    byCluster.forEach(
        (cluster, ids) ->
            ids.forEach((id, labels) -> learned.add(new IdentityEntry(id, Arrays.asList(labels), cluster))));
    learned.sort((a, b) -> Integer.compareUnsigned(a.id(), b.id()));
    out.addAll(learned);
    return out;
  }

  public synchronized int count(String cluster) {
    return byCluster.getOrDefault(cluster, Map.of()).size();
  }
}
