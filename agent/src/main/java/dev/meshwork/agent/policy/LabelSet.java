package dev.meshwork.agent.policy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * An identity's labels keyed for selector matching. Identity labels are written {@code
 * source:key=value} ({@code k8s:app=frontend}, {@code reserved:host}); the key used here drops
 * the source, except for {@code reserved:} labels which keep it so that an ordinary selector can
 * never match a reserved identity by accident. (Strings are not interned here: the identity table
 * holds the interned originals, and interning costs more than the few bytes it saves.)
 */
public record LabelSet(Map<String, String> values) {
  static final String NAMESPACE = "io.kubernetes.pod.namespace";
  static final String CLUSTER = "io.cilium.k8s.policy.cluster";
  static final String NAMESPACE_LABEL_PREFIX = "io.cilium.k8s.namespace.labels.";

  public LabelSet {
    values = Map.copyOf(values);
  }

  /** Namespace of a pod identity, or null (reserved identities). */
  String namespace() {
    return values.get(NAMESPACE);
  }

  /** Parses identity labels; a label without {@code =} has the empty value. */
  public static LabelSet parse(List<String> labels) {
    Map<String, String> values = new HashMap<>(labels.size() * 2);
    for (String label : labels) {
      int eq = label.indexOf('=');
      String keyPart = eq < 0 ? label : label.substring(0, eq);
      String value = eq < 0 ? "" : label.substring(eq + 1);
      values.put(canonicalKey(keyPart), value);
    }
    return new LabelSet(values);
  }

  /**
   * The key without its source prefix ({@code k8s:}, {@code any:}, {@code container:}, ...), but
   * with {@code reserved:} kept. Kubernetes label keys never contain a colon, so the first colon
   * ends the source.
   */
  public static String canonicalKey(String key) {
    int colon = key.indexOf(':');
    if (colon < 0) {
      return key;
    }
    String source = key.substring(0, colon);
    return source.equals("reserved") ? key : key.substring(colon + 1);
  }

  public String get(String key) {
    return values.get(key);
  }
}
