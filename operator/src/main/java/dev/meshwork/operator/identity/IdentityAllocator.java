package dev.meshwork.operator.identity;

import java.util.Collection;
import java.util.Map;
import java.util.function.IntPredicate;

/**
 * The store in which numeric identities are claimed. Claims are atomic, so that two operators
 * (a leader and a deposed leader that has not noticed yet) never give one id two label sets.
 */
public interface IdentityAllocator {

  /** The identities of this cluster already in the store, by label set. */
  Map<LabelSet, Integer> existing() throws Exception;

  /**
   * Claims an id for {@code labels}, trying ids for which {@code inUse} is false; if the store
   * already holds an identity with exactly these labels at a tried id, that id is returned.
   *
   * @throws IdentitiesExhaustedException when no id of the cluster's range is free
   */
  int allocate(LabelSet labels, IntPredicate inUse) throws Exception;

  /**
   * Claims an id for each of {@code labels} as {@link #allocate} would for each one, but in as
   * few round trips to the store as it can. The claim of each label set stays atomic on its own:
   * a conflict on one id moves only that label set on to another id, never loses the others.
   *
   * @return the id of every label set that got one; a label set is missing only when the
   *     cluster's range ran out of free ids
   */
  Map<LabelSet, Integer> allocateAll(Collection<LabelSet> labels, IntPredicate inUse) throws Exception;

  /** Deletes the identity if it still stands for {@code labels}. */
  void free(int id, LabelSet labels) throws Exception;
}
