package dev.meshwork.agent.policy;

/**
 * Where a value sits in a policy object ({@code spec.ingress[0].toPorts[1].ports[0].port}), for
 * error messages. Built as a chain of small nodes and turned into text only when an error names
 * it: a valid policy (the common case) never pays for the text.
 */
final class FieldPath {
  private final FieldPath parent;
  private final String field; // null for a list index
  private final int index;

  private FieldPath(FieldPath parent, String field, int index) {
    this.parent = parent;
    this.field = field;
    this.index = index;
  }

  /** A top-level path, written as it is ({@code spec}, {@code metadata.namespace}). */
  static FieldPath of(String root) {
    return new FieldPath(null, root, -1);
  }

  FieldPath field(String name) {
    return new FieldPath(this, name, -1);
  }

  FieldPath index(int i) {
    return new FieldPath(this, null, i);
  }

  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    append(out);
    return out.toString();
  }

  private void append(StringBuilder out) {
    if (parent != null) {
      parent.append(out);
    }
    if (field == null) {
      out.append('[').append(index).append(']');
    } else {
      if (parent != null) {
        out.append('.');
      }
      out.append(field);
    }
  }
}
