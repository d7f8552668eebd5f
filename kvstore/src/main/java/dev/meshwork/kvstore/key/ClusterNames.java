package dev.meshwork.kvstore.key;

import dev.meshwork.common.cluster.ClusterName;

/** Cluster-name validation for key segments, by the rules of {@link ClusterName}. */
final class ClusterNames {
  private ClusterNames() {}

  static String check(String name) {
    return ClusterName.of(name).value();
  }
}
