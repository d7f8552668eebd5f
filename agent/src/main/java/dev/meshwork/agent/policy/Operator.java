package dev.meshwork.agent.policy;

import java.util.List;

/** The operators of a label selector's {@code matchExpressions}, as Kubernetes defines them. */
public enum Operator {
  IN("In"),
  NOT_IN("NotIn"),
  EXISTS("Exists"),
  DOES_NOT_EXIST("DoesNotExist");

  private final String yamlName;

  Operator(String yamlName) {
    this.yamlName = yamlName;
  }

  public String yamlName() {
    return yamlName;
  }

  /** The operator written {@code name} in a policy, or null when there is none of that name. */
  public static Operator fromYaml(String name) {
    for (Operator op : values()) {
      if (op.yamlName.equals(name)) {
        return op;
      }
    }
    return null;
  }

  /** Whether a label with {@code value} (null when the label is absent) satisfies the operator. */
  boolean matches(String value, List<String> values) {
    return switch (this) {
      case IN -> value != null && values.contains(value);
      case NOT_IN -> value == null || !values.contains(value);
      case EXISTS -> value != null;
      case DOES_NOT_EXIST -> value == null;
    };
  }
}
