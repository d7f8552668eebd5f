package dev.meshwork.agent.policy;

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
    values = values.stream().distinct().sorted().toList();
  }

  public static Requirement equal(String key, String value) {
    return new Requirement(key, Operator.IN, List.of(value));
  }

  public boolean matches(LabelSet labels) {
    return operator.matches(labels.get(key), values);
  }

  @Override
  public int compareTo(Requirement o) {
    int c = key.compareTo(o.key);
    if (c != 0) {
      return c;
    }
    c = operator.compareTo(o.operator);
    return c != 0 ? c : String.join(",", values).compareTo(String.join(",", o.values));
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
