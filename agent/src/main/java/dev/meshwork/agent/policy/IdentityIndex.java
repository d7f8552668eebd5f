package dev.meshwork.agent.policy;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The mesh-wide identities with an inverted index (label → identities) kept as bitsets.
 *
 * <p>Every identity gets a dense <em>slot</em> (0, 1, 2, ...; the slot of a deleted identity is
 * given to the next new one), and each label key and key=value pair has the bitset of the slots
 * carrying it. Resolving a selector is then a few word-wise AND / OR / AND-NOT operations over
 * those bitsets (a few dozen 64-bit words for thousands of identities) instead of a hash lookup
 * per candidate identity and requirement. Callers that keep a selection (a bitset of slots) must
 * clear an identity's slot when it goes, because the slot is reused.
 */
final class IdentityIndex {
  private final Map<Integer, Integer> slotOf = new HashMap<>();
  private int[] idAt = new int[64];
  private LabelSet[] labelsAt = new LabelSet[64];
  private final BitSet present = new BitSet();
  private final BitSet freeSlots = new BitSet();
  private int slotsUsed;
  private final Map<String, Map<String, BitSet>> byKeyValue = new HashMap<>();
  private final Map<String, BitSet> byKey = new HashMap<>();

  LabelSet get(int id) {
    Integer slot = slotOf.get(id);
    return slot == null ? null : labelsAt[slot];
  }

  int size() {
    return slotOf.size();
  }

  /** The slot of a present identity, or -1. */
  int slot(int id) {
    Integer slot = slotOf.get(id);
    return slot == null ? -1 : slot;
  }

  /** The identity in {@code slot} (which must be present). */
  int idAt(int slot) {
    return idAt[slot];
  }

  /** Adds (or replaces) an identity and returns its slot. */
  int put(int id, LabelSet set) {
    remove(id);
    int slot = freeSlots.nextSetBit(0);
    if (slot >= 0) {
      freeSlots.clear(slot);
    } else {
      slot = slotsUsed++;
      if (slot == idAt.length) {
        idAt = Arrays.copyOf(idAt, slot * 2);
        labelsAt = Arrays.copyOf(labelsAt, slot * 2);
      }
    }
    slotOf.put(id, slot);
    idAt[slot] = id;
    labelsAt[slot] = set;
    present.set(slot);
    for (Map.Entry<String, String> label : set.values().entrySet()) {
      byKey.computeIfAbsent(label.getKey(), k -> new BitSet()).set(slot);
      byKeyValue
          .computeIfAbsent(label.getKey(), k -> new HashMap<>())
          .computeIfAbsent(label.getValue(), v -> new BitSet())
          .set(slot);
    }
    return slot;
  }

  /** Removes an identity; returns the slot it had (now free), or -1 when it was unknown. */
  int remove(int id) {
    Integer boxed = slotOf.remove(id);
    if (boxed == null) {
      return -1;
    }
    int slot = boxed;
    for (Map.Entry<String, String> label : labelsAt[slot].values().entrySet()) {
      clear(byKey, label.getKey(), slot);
      Map<String, BitSet> values = byKeyValue.get(label.getKey());
      clear(values, label.getValue(), slot);
      if (values.isEmpty()) {
        byKeyValue.remove(label.getKey());
      }
    }
    labelsAt[slot] = null;
    present.clear(slot);
    freeSlots.set(slot);
    return slot;
  }

  private static void clear(Map<String, BitSet> map, String key, int slot) {
    BitSet slots = map.get(key);
    slots.clear(slot);
    if (slots.isEmpty()) {
      map.remove(key);
    }
  }

  /**
   * The slots of every identity the selector matches: the intersection of what each requirement
   * allows. In is the union of its values' bitsets; NotIn removes that union (an identity without
   * the label satisfies NotIn); Exists / DoesNotExist keep or remove the key's bitset. A selector
   * without a positive requirement starts from every identity.
   */
  BitSet select(Selector selector) {
    BitSet out = null;
    List<Requirement> requirements = selector.requirements();
    for (Requirement r : requirements) {
      if (r.operator() == Operator.IN || r.operator() == Operator.EXISTS) {
        BitSet allowed = slotsWith(r);
        if (allowed == null) {
          return new BitSet();
        }
        if (out == null) {
          out = (BitSet) allowed.clone();
        } else {
          out.and(allowed);
        }
      }
    }
    if (out == null) {
      out = (BitSet) present.clone();
    }
    for (Requirement r : requirements) {
      if (out.isEmpty()) {
        break;
      }
      if (r.operator() == Operator.NOT_IN || r.operator() == Operator.DOES_NOT_EXIST) {
        BitSet excluded = slotsWith(r);
        if (excluded != null) {
          out.andNot(excluded);
        }
      }
    }
    return out;
  }

  /**
   * The slots having the requirement's key (Exists, DoesNotExist) or one of its values (In,
   * NotIn); null for none. The result is the index's own bitset when a single one answers: never
   * modify it.
   */
  private BitSet slotsWith(Requirement r) {
    if (r.operator() == Operator.EXISTS || r.operator() == Operator.DOES_NOT_EXIST) {
      return byKey.get(r.key());
    }
    Map<String, BitSet> values = byKeyValue.get(r.key());
    if (values == null) {
      return null;
    }
    BitSet union = null;
    boolean copied = false;
    for (String value : r.values()) {
      BitSet slots = values.get(value);
      if (slots == null) {
        continue;
      }
      if (union == null) {
        union = slots;
      } else {
        if (!copied) {
          union = (BitSet) union.clone();
          copied = true;
        }
        union.or(slots);
      }
    }
    return union;
  }

  /** The identities in a selection of slots, sorted (for reports and tests). */
  Set<Integer> idsOf(BitSet slots) {
    Set<Integer> ids = new TreeSet<>();
    for (int slot = slots.nextSetBit(0); slot >= 0; slot = slots.nextSetBit(slot + 1)) {
      ids.add(idAt[slot]);
    }
    return ids;
  }
}
