package dev.meshwork.agent.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One condition of a selector on the canonical label key (see {@link LabelSet#canonicalKey}).
 * Values are sorted and distinct so that equal selectors compare equal and share one cache entry.
 */
public record Requirement(String key, Operator operator, List<String> values)
    implements Comparable<Requirement> {

  public Requirement {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(operator, "operator");
    values = values.size() <= 1 ? List.copyOf(values) : sortedDistinct(values);
  }

  private static List<String> sortedDistinct(List<String> values) {
    List<String> sorted = new ArrayList<>(values);
    sorted.sort(null);
    for (int i = sorted.size() - 1; i > 0; i--) {
      if (sorted.get(i).equals(sorted.get(i - 1))) {
        sorted.remove(i);
      }
    }
    return List.copyOf(sorted);
  }

  public static Requirement equal(String key, String value) {
    return new Requirement(key, Operator.IN, List.of(value));
  }

  public boolean matches(LabelSet labels) {
    String value = labels.get(key);
    if (operator == Operator.IN && values.size() == 1) {
      return values.getFirst().equals(value);
    }
    return operator.matches(value, values);
  }

  @Override
  public int compareTo(Requirement o) {
    int c = key.compareTo(o.key);
    if (c != 0) {
      return c;
    }
    c = operator.compareTo(o.operator);
    for (int i = 0; c == 0 && i < Math.min(values.size(), o.values.size()); i++) {
      c = values.get(i).compareTo(o.values.get(i));
    }
    return c != 0 ? c : Integer.compare(values.size(), o.values.size());
  }

  @Override
  public String toString() {
    return switch (operator) {
      case IN -> values.size() == 1 ? key + "=" + values.getFirst() : key + " in (" + String.join(",", values) + ")";
      case NOT_IN -> key + " notin (" + String.join(",", values) + ")";
      case EXISTS -> key;
      case DOES_NOT_EXIST -> "!" + key;
    };
  }
}
