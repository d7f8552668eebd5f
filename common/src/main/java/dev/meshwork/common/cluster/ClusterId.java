package dev.meshwork.common.cluster;

/**
 * The numeric id of a cluster in the mesh, 1..255. It is the top byte of the cluster's numeric
 * identities ({@code id << 16 | local}), so every cluster in a mesh needs its own.
 */
public record ClusterId(int value) implements Comparable<ClusterId> {
  public static final int MIN = 1;
  public static final int MAX = 255;

  public ClusterId {
    if (value < MIN || value > MAX) {
      throw new IllegalArgumentException("invalid cluster id " + value + ": it is outside " + MIN + ".." + MAX);
    }
  }

  public static ClusterId of(int value) {
    return new ClusterId(value);
  }

  /** Parses a decimal cluster id, with a message naming the text when it is not one. */
  public static ClusterId parse(String text) {
    int value;
    try {
      value = Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid cluster id \"" + text + "\": it is not an integer");
    }
    return of(value);
  }

  public static boolean isValid(int value) {
    return value >= MIN && value <= MAX;
  }

  @Override
  public int compareTo(ClusterId other) {
    return Integer.compare(value, other.value);
  }

  @Override
  public String toString() {
    return Integer.toString(value);
  }
}
