package dev.meshwork.operator.cluster;

import java.util.regex.Pattern;

/**
 * The cluster this operator writes for: its name (the {@code <cluster>} segment of every key)
 * and its id (1..255, the high bits of its identities).
 */
public record LocalCluster(String name, int id) {

  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?");

  public LocalCluster {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "cluster-name '"
              + name
              + "' is invalid: use at most 32 characters of [a-z0-9-], starting and ending"
              + " with a letter or digit");
    }
    if (id < 1 || id > 255) {
      throw new IllegalArgumentException(
          "cluster-id " + id + " is out of range: it must be 1..255 and unique in the mesh");
    }
  }
}
