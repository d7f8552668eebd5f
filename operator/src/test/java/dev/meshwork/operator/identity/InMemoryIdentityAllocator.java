package dev.meshwork.operator.identity;

import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;

/** Identities claimed in a map (the etcd version is EtcdIdentityAllocator), for unit tests. */
final class InMemoryIdentityAllocator implements IdentityAllocator {

  private final IdentityRange range;
  final Map<Integer, LabelSet> claimed = new TreeMap<>();
  /** Calls of allocate and allocateAll from outside: the round trips an etcd would see. */
  int calls;

  InMemoryIdentityAllocator(int clusterId) {
    this.range = new IdentityRange(clusterId);
  }

  @Override
  public synchronized Map<LabelSet, Integer> existing() {
    Map<LabelSet, Integer> byLabels = new HashMap<>();
    claimed.forEach((id, labels) -> byLabels.put(labels, id));
    return byLabels;
  }

  @Override
  public synchronized int allocate(LabelSet labels, IntPredicate inUse) throws IdentitiesExhaustedException {
    calls++;
    return claim(labels, inUse);
  }

  private int claim(LabelSet labels, IntPredicate inUse) throws IdentitiesExhaustedException {
    for (int id = range.first(); id <= range.last(); id++) {
      if (inUse.test(id)) {
        continue;
      }
      LabelSet held = claimed.putIfAbsent(id, labels);
      if (held == null || held.equals(labels)) {
        return id;
      }
    }
    throw new IdentitiesExhaustedException("no free identity");
  }

  @Override
  public synchronized Map<LabelSet, Integer> allocateAll(Collection<LabelSet> labels, IntPredicate inUse) {
    calls++;
    Map<LabelSet, Integer> ids = new LinkedHashMap<>();
    for (LabelSet set : labels) {
      try {
        ids.put(set, claim(set, inUse));
      } catch (IdentitiesExhaustedException e) {
        // left out, as the interface says
      }
    }
    return ids;
  }

  @Override
  public synchronized void free(int id, LabelSet labels) {
    claimed.remove(id, labels);
  }
}
