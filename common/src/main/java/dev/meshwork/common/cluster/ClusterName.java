package dev.meshwork.common.cluster;

import java.util.Optional;

/**
 * The name of a cluster in the mesh: 1 to 32 characters of {@code a-z}, {@code 0-9} and {@code -},
 * starting and ending with a letter or digit. It is a segment of kvstore keys and a label value, so
 * the rules are strict.
 */
public record ClusterName(String value) implements Comparable<ClusterName> {
  public static final int MAX_LENGTH = 32;

  public ClusterName {
    problem(value).ifPresent(reason -> {
      throw new IllegalArgumentException("invalid cluster name " + quote(value) + ": " + reason);
    });
  }

  public static ClusterName of(String value) {
    return new ClusterName(value);
  }

  /** Why {@code value} is not a valid cluster name, or empty when it is one. */
  public static Optional<String> problem(String value) {
    if (value == null || value.isEmpty()) {
      return Optional.of("it is empty");
    }
    if (value.length() > MAX_LENGTH) {
      return Optional.of("it has " + value.length() + " characters, at most " + MAX_LENGTH + " are allowed");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-')) {
        return Optional.of("character " + describe(c) + " at position " + (i + 1) + " is not allowed (only a-z, 0-9 and '-')");
      }
    }
    if (value.charAt(0) == '-' || value.charAt(value.length() - 1) == '-') {
      return Optional.of("it must start and end with a letter or digit");
    }
    return Optional.empty();
  }

  public static boolean isValid(String value) {
    return problem(value).isEmpty();
  }

  @Override
  public int compareTo(ClusterName other) {
    return value.compareTo(other.value);
  }

  @Override
  public String toString() {
    return value;
  }

  private static String describe(char c) {
    return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
  }

  private static String quote(String value) {
    return value == null ? "null" : "\"" + value + "\"";
  }
}
