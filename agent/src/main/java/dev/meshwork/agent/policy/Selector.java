package dev.meshwork.agent.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A compiled label selector: every requirement must hold. Already scoped (namespace and cluster
 * requirements added by the parser), sorted and de-duplicated, so equal selectors from different
 * rules are equal values and resolve once.
 */
public record Selector(List<Requirement> requirements) {

  public Selector {
    List<Requirement> sorted = new ArrayList<>(requirements);
    sorted.sort(null);
    for (int i = sorted.size() - 1; i > 0; i--) {
      if (sorted.get(i).equals(sorted.get(i - 1))) {
        sorted.remove(i);
      }
    }
    requirements = List.copyOf(sorted);
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

  public Selector with(Requirement extra) {
    List<Requirement> all = new ArrayList<>(requirements);
    all.add(extra);
    return new Selector(all);
  }

  @Override
  public String toString() {
    return requirements.isEmpty()
        ? "{}"
        : requirements.stream().map(Requirement::toString).collect(Collectors.joining(", ", "{", "}"));
  }
}
