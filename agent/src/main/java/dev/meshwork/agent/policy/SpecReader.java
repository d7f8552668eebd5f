package dev.meshwork.agent.policy;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads untyped policy YAML (maps, lists, scalars as Jackson gives them) and records an error
 * naming the field path for every value of the wrong type or field we do not implement.
 */
final class SpecReader {
  private final List<String> errors;

  SpecReader(List<String> errors) {
    this.errors = errors;
  }

  int errorCount() {
    return errors.size();
  }

  void error(FieldPath path, String message) {
    errors.add(path + ": " + message);
  }

  /** The map at {@code path}, or null (with an error) when the value is something else. */
  @SuppressWarnings("unchecked")
  Map<String, Object> map(Object value, FieldPath path) {
    if (value instanceof Map<?, ?> m) {
      return (Map<String, Object>) m;
    }
    error(path, "expected an object, got " + describe(value));
    return null;
  }

  List<?> list(Object value, FieldPath path) {
    if (value instanceof List<?> l) {
      return l;
    }
    error(path, "expected a list, got " + describe(value));
    return null;
  }

  String string(Object value, FieldPath path) {
    if (value instanceof String s) {
      return s;
    }
    error(path, "expected a string, got " + describe(value));
    return null;
  }

  /**
   * Reports every key of {@code map} outside {@code supported}; those in {@code known} are named
   * as valid but not implemented by Meshwork.
   */
  void onlyFields(Map<String, Object> map, FieldPath path, Set<String> supported, Set<String> known) {
    for (String key : map.keySet()) {
      if (supported.contains(key)) {
        continue;
      }
      if (known.contains(key)) {
        error(path.field(key), "not supported by Meshwork");
      } else {
        error(path.field(key), "unknown field");
      }
    }
  }

  static String describe(Object value) {
    return switch (value) {
      case null -> "nothing";
      case Map<?, ?> m -> "an object";
      case List<?> l -> "a list";
      case String s -> "the string \"" + s + "\"";
      case Boolean b -> "the boolean " + b;
      case Number n -> "the number " + n;
      default -> "a " + value.getClass().getSimpleName();
    };
  }
}
