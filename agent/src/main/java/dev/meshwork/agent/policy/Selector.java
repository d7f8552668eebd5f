package dev.meshwork.agent.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A compiled label selector: every requirement must hold. Already scoped (namespace and cluster
 * requirements added by the parser), sorted and de-duplicated, so equal selectors from different
 * rules are equal values and resolve once. (A class rather than a record so that its hash, the
 * key of the engine's selector cache, is computed once.)
 */
public final class Selector {
  private final List<Requirement> requirements;
  private final int hash;

  public Selector(List<Requirement> requirements) {
    List<Requirement> sorted = new ArrayList<>(requirements);
    sorted.sort(null);
    for (int i = sorted.size() - 1; i > 0; i--) {
      if (sorted.get(i).equals(sorted.get(i - 1))) {
        sorted.remove(i);
      }
    }
    this.requirements = List.copyOf(sorted);
    this.hash = this.requirements.hashCode();
  }

  public List<Requirement> requirements() {
    return requirements;
  }

  public boolean matches(LabelSet labels) {
    for (Requirement r : requirements) {
      if (!r.matches(labels)) {
        return false;
      }
    }
    return true;
  }

  /** Whether any requirement is about {@code key}, whatever its operator. */
  public boolean constrains(String key) {
    for (Requirement r : requirements) {
      if (r.key().equals(key)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the selector names a reserved label ({@code reserved:host}); those are never scoped. */
  public boolean selectsReserved() {
    for (Requirement r : requirements) {
      if (r.key().startsWith("reserved:")) {
        return true;
      }
    }
    return false;
  }

  /** This selector with more requirements (sorted in once). */
  public Selector with(Requirement... extra) {
    List<Requirement> all = new ArrayList<>(requirements.size() + extra.length);
    all.addAll(requirements);
    all.addAll(List.of(extra));
    return new Selector(all);
  }

  @Override
  public boolean equals(Object o) {
    return o == this || (o instanceof Selector s && s.hash == hash && s.requirements.equals(requirements));
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return requirements.isEmpty()
        ? "{}"
        : requirements.stream().map(Requirement::toString).collect(Collectors.joining(", ", "{", "}"));
  }
}
