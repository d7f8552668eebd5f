package dev.meshwork.kvstore.key;

/** Cluster-name validation for key segments (same rules as the common ClusterName). */
final class ClusterNames {
  private ClusterNames() {}

  static String check(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("cluster name is empty");
    }
    if (name.length() > 32) {
      throw new IllegalArgumentException(
          "cluster name '" + name + "' is longer than 32 characters");
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
        throw new IllegalArgumentException(
            "cluster name '" + name + "' may contain only [a-z0-9-]");
      }
    }
    if (name.startsWith("-") || name.endsWith("-")) {
      throw new IllegalArgumentException(
          "cluster name '" + name + "' must start and end with a letter or digit");
    }
    return name;
  }
}
