package dev.meshwork.agent.policy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The mesh-wide identities with an inverted index (label → identities), so that resolving a
 * selector starts from its most selective label instead of scanning every identity.
 */
final class IdentityIndex {
  private final Map<Integer, LabelSet> labels = new HashMap<>();
  private final Map<String, Map<String, Set<Integer>>> byKeyValue = new HashMap<>();
  private final Map<String, Set<Integer>> byKey = new HashMap<>();

  LabelSet get(int id) {
    return labels.get(id);
  }

  int size() {
    return labels.size();
  }

  void put(int id, LabelSet set) {
    remove(id);
    labels.put(id, set);
    set.values()
        .forEach(
            (key, value) -> {
              byKey.computeIfAbsent(key, k -> new HashSet<>()).add(id);
              byKeyValue.computeIfAbsent(key, k -> new HashMap<>()).computeIfAbsent(value, v -> new HashSet<>()).add(id);
            });
  }

  LabelSet remove(int id) {
    LabelSet set = labels.remove(id);
    if (set != null) {
      set.values()
          .forEach(
              (key, value) -> {
                removeFrom(byKey, key, id);
                Map<String, Set<Integer>> values = byKeyValue.get(key);
                removeFrom(values, value, id);
                if (values.isEmpty()) {
                  byKeyValue.remove(key);
                }
              });
    }
    return set;
  }

  private static void removeFrom(Map<String, Set<Integer>> map, String key, int id) {
    Set<Integer> ids = map.get(key);
    ids.remove(id);
    if (ids.isEmpty()) {
      map.remove(key);
    }
  }

  /** Every identity the selector matches. */
  Set<Integer> select(Selector selector) {
    // The smallest candidate set any positive requirement allows; all identities otherwise.
    Iterable<Integer> candidates = null;
    Requirement producer = null;
    int best = Integer.MAX_VALUE;
    for (Requirement r : selector.requirements()) {
      switch (r.operator()) {
        case IN -> {
          Map<String, Set<Integer>> values = byKeyValue.getOrDefault(r.key(), Map.of());
          int size = 0;
          for (String v : r.values()) {
            size += values.getOrDefault(v, Set.of()).size();
          }
          if (size < best) {
            best = size;
            candidates = union(values, r);
            producer = r;
          }
        }
        case EXISTS -> {
          Set<Integer> ids = byKey.getOrDefault(r.key(), Set.of());
          if (ids.size() < best) {
            best = ids.size();
            candidates = ids;
            producer = r;
          }
        }
        default -> {}
      }
      if (best == 0) {
        return new HashSet<>();
      }
    }
    if (candidates == null) {
      candidates = labels.keySet();
    }
    // The candidates satisfy the requirement they came from; check only the others.
    List<Requirement> rest = new ArrayList<>(selector.requirements());
    rest.remove(producer);
    Set<Integer> out = new HashSet<>();
    for (Integer id : candidates) {
      if (matchesAll(rest, labels.get(id))) {
        out.add(id);
      }
    }
    return out;
  }

  private static boolean matchesAll(List<Requirement> requirements, LabelSet set) {
    for (int i = 0; i < requirements.size(); i++) {
      if (!requirements.get(i).matches(set)) {
        return false;
      }
    }
    return true;
  }

  private static Iterable<Integer> union(Map<String, Set<Integer>> values, Requirement r) {
    if (r.values().size() == 1) {
      return values.getOrDefault(r.values().getFirst(), Set.of());
    }
    Set<Integer> all = new HashSet<>();
    for (String v : r.values()) {
      all.addAll(values.getOrDefault(v, Set.of()));
    }
    return all;
  }
}
