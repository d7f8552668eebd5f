package dev.meshwork.kvstore.key;

import dev.meshwork.common.cluster.ClusterId;

/**
 * The numeric identities a cluster may allocate: {@code clusterId << 16 | local} with local in
 * 256..65535 (ARCHITECTURE.md, identities). Readers use it to reject a remote identity outside
 * the range of the cluster it came from.
 */
public final class IdentityRange {
  /** The lowest cluster-local identity; lower ones are reserved and shared by all clusters. */
  public static final int MIN_LOCAL = 256;
  /** The highest cluster-local identity. */
  public static final int MAX_LOCAL = 0xFFFF;

  private IdentityRange() {}

  /** The identity {@code local} of {@code cluster}. */
  public static long identity(ClusterId cluster, int local) {
    if (local < MIN_LOCAL || local > MAX_LOCAL) {
      throw new IllegalArgumentException(
          "local identity " + local + " is outside " + MIN_LOCAL + ".." + MAX_LOCAL);
    }
    return ((long) cluster.value() << 16) | local;
  }

  /** Whether {@code identity} lies in {@code cluster}'s range. */
  public static boolean belongsTo(long identity, ClusterId cluster) {
    long local = identity & 0xFFFF;
    return (identity >>> 16) == cluster.value() && local >= MIN_LOCAL;
  }
}
