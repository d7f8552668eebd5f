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

  /**
   * Every identity the selector matches. The candidates are the smallest id set a positive
   * requirement (In, Exists) allows, or all identities; every other requirement is then checked
   * against the index's id sets, looked up once per requirement, so that each candidate costs one
   * hash lookup of its (already boxed) id per requirement instead of a label lookup and string
   * comparisons.
   */
  Set<Integer> select(Selector selector) {
    List<Requirement> requirements = selector.requirements();
    int producer = -1;
    int best = Integer.MAX_VALUE;
    for (int i = 0; i < requirements.size(); i++) {
      Requirement r = requirements.get(i);
      int size =
          switch (r.operator()) {
            case IN -> {
              Map<String, Set<Integer>> values = byKeyValue.getOrDefault(r.key(), Map.of());
              int total = 0;
              for (String v : r.values()) {
                total += values.getOrDefault(v, Set.of()).size();
              }
              yield total;
            }
            case EXISTS -> byKey.getOrDefault(r.key(), Set.of()).size();
            default -> -1;
          };
      if (size >= 0 && size < best) {
        best = size;
        producer = i;
      }
      if (best == 0) {
        return new HashSet<>();
      }
    }
    Iterable<Integer> candidates = producer < 0 ? labels.keySet() : idsOf(requirements.get(producer));
    // The candidates satisfy the requirement they came from; check only the others.
    int checks = producer < 0 ? requirements.size() : requirements.size() - 1;
    Check[] others = new Check[checks];
    for (int i = 0, j = 0; i < requirements.size(); i++) {
      if (i != producer) {
        others[j++] = check(requirements.get(i));
      }
    }
    Set<Integer> out = HashSet.newHashSet(Math.min(best, labels.size()));
    candidates:
    for (Integer id : candidates) {
      for (Check check : others) {
        if (!check.holds(id)) {
          continue candidates;
        }
      }
      out.add(id);
    }
    return out;
  }

  /** A requirement answered from the index: whether an id is in one of {@code sets}, or not. */
  private record Check(List<Set<Integer>> sets, boolean negated) {
    boolean holds(Integer id) {
      for (int i = 0; i < sets.size(); i++) {
        if (sets.get(i).contains(id)) {
          return !negated;
        }
      }
      return negated;
    }
  }

  /**
   * In: the id sets of its values; NotIn: the same, negated (an identity without the label
   * satisfies NotIn); Exists / DoesNotExist: the ids having the key, or not.
   */
  private Check check(Requirement r) {
    return switch (r.operator()) {
      case IN, NOT_IN -> {
        Map<String, Set<Integer>> values = byKeyValue.getOrDefault(r.key(), Map.of());
        List<Set<Integer>> sets = new ArrayList<>(r.values().size());
        for (String v : r.values()) {
          Set<Integer> ids = values.get(v);
          if (ids != null) {
            sets.add(ids);
          }
        }
        yield new Check(sets, r.operator() == Operator.NOT_IN);
      }
      case EXISTS -> new Check(List.of(byKey.getOrDefault(r.key(), Set.of())), false);
      case DOES_NOT_EXIST -> new Check(List.of(byKey.getOrDefault(r.key(), Set.of())), true);
    };
  }

  /** The ids a positive requirement allows. */
  private Iterable<Integer> idsOf(Requirement r) {
    return r.operator() == Operator.EXISTS
        ? byKey.getOrDefault(r.key(), Set.of())
        : union(byKeyValue.getOrDefault(r.key(), Map.of()), r);
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
