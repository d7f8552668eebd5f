package dev.meshwork.agent.policy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a Kubernetes label selector ({@code matchLabels}, {@code matchExpressions}) into
 * requirements on canonical label keys: {@code app}, {@code k8s:app} and {@code any:app} are the
 * same key.
 */
final class SelectorParser {
  private static final Set<String> FIELDS = Set.of("matchLabels", "matchExpressions");
  private static final Set<String> EXPRESSION_FIELDS = Set.of("key", "operator", "values");

  private SelectorParser() {}

  /** The selector at {@code path}, or null when it has errors (recorded in {@code reader}). */
  static Selector parse(Object yaml, FieldPath path, SpecReader reader) {
    int before = reader.errorCount();
    Map<String, Object> map = reader.map(yaml, path);
    if (map == null) {
      return null;
    }
    reader.onlyFields(map, path, FIELDS, Set.of());
    List<Requirement> requirements = new ArrayList<>();
    Object matchLabels = map.get("matchLabels");
    if (matchLabels != null) {
      Map<String, Object> labels = reader.map(matchLabels, path.field("matchLabels"));
      if (labels != null) {
        labels.forEach(
            (key, value) -> {
              String canonical = LabelSet.canonicalKey(key);
              if (value instanceof String v && !canonical.isEmpty()) {
                requirements.add(Requirement.equal(canonical, v));
              } else {
                FieldPath p = path.field("matchLabels").field(key);
                reader.string(value, p);
                checkKey(canonical, p, reader);
              }
            });
      }
    }
    Object matchExpressions = map.get("matchExpressions");
    if (matchExpressions != null) {
      List<?> expressions = reader.list(matchExpressions, path.field("matchExpressions"));
      if (expressions != null) {
        for (int i = 0; i < expressions.size(); i++) {
          Requirement r = expression(expressions.get(i), path.field("matchExpressions").index(i), reader);
          if (r != null) {
            requirements.add(r);
          }
        }
      }
    }
    return reader.errorCount() == before ? new Selector(requirements) : null;
  }

  private static Requirement expression(Object yaml, FieldPath path, SpecReader reader) {
    Map<String, Object> map = reader.map(yaml, path);
    if (map == null) {
      return null;
    }
    reader.onlyFields(map, path, EXPRESSION_FIELDS, Set.of());
    String key = reader.string(map.get("key"), path.field("key"));
    String opName = reader.string(map.get("operator"), path.field("operator"));
    if (key == null || opName == null) {
      return null;
    }
    String canonicalKey = LabelSet.canonicalKey(key);
    if (!checkKey(canonicalKey, path.field("key"), reader)) {
      return null;
    }
    Operator op = Operator.fromYaml(opName);
    if (op == null) {
      reader.error(
          path.field("operator"),
          "unknown operator \"" + opName + "\" (expected In, NotIn, Exists or DoesNotExist)");
      return null;
    }
    List<String> values = new ArrayList<>();
    Object rawValues = map.get("values");
    if (rawValues != null) {
      List<?> list = reader.list(rawValues, path.field("values"));
      if (list == null) {
        return null;
      }
      for (int i = 0; i < list.size(); i++) {
        String v = reader.string(list.get(i), path.field("values").index(i));
        if (v == null) {
          return null;
        }
        values.add(v);
      }
    }
    boolean needsValues = op == Operator.IN || op == Operator.NOT_IN;
    if (needsValues && values.isEmpty()) {
      reader.error(path.field("values"), "operator " + opName + " needs at least one value");
      return null;
    }
    if (!needsValues && !values.isEmpty()) {
      reader.error(path.field("values"), "operator " + opName + " takes no values");
      return null;
    }
    return new Requirement(canonicalKey, op, values);
  }

  /** Whether a label key (already without its source prefix) is usable; an error otherwise. */
  private static boolean checkKey(String canonicalKey, FieldPath path, SpecReader reader) {
    if (canonicalKey.isEmpty()) {
      reader.error(path, "empty label key");
      return false;
    }
    return true;
  }
}
