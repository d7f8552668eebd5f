package dev.meshwork.operator.ipam;

import java.util.BitSet;
import java.util.Optional;

/**
 * Cluster-pool IPAM: the pool prefix cut into per-node blocks of {@code maskSize}. Hands out the
 * lowest free block; {@link #claim} re-marks blocks found in existing MeshNodes at start-up so
 * that nothing is handed out twice across operator restarts. Thread-safe.
 */
public final class CidrPool {

  private final Ipv4Cidr pool;
  private final int maskSize;
  private final int blocks;
  private final BitSet used;

  /**
   * @throws IllegalArgumentException naming the setting when the mask size does not fit the pool
   */
  public CidrPool(Ipv4Cidr pool, int maskSize) {
    if (maskSize < pool.prefixLength()) {
      throw new IllegalArgumentException(
          "cluster-pool-ipv4-mask-size "
              + maskSize
              + " is larger than the pool "
              + pool
              + ": each node block must fit inside the pool (use a mask size of "
              + pool.prefixLength()
              + "..32)");
    }
    if (maskSize > 32) {
      throw new IllegalArgumentException(
          "cluster-pool-ipv4-mask-size " + maskSize + " is not a prefix length (0..32)");
    }
    if (maskSize - pool.prefixLength() > 24) {
      throw new IllegalArgumentException(
          "cluster-pool-ipv4-mask-size "
              + maskSize
              + " cuts the pool "
              + pool
              + " into more than 2^24 blocks; use a shorter mask size");
    }
    this.pool = pool;
    this.maskSize = maskSize;
    this.blocks = 1 << (maskSize - pool.prefixLength());
    this.used = new BitSet(blocks);
  }

  public Ipv4Cidr pool() {
    return pool;
  }

  public int maskSize() {
    return maskSize;
  }

  /** The number of node blocks in the pool. */
  public int capacity() {
    return blocks;
  }

  public synchronized int allocated() {
    return used.cardinality();
  }

  /** The lowest free block, now marked used; empty when the pool is exhausted. */
  public synchronized Optional<Ipv4Cidr> allocate() {
    int index = used.nextClearBit(0);
    if (index >= blocks) {
      return Optional.empty();
    }
    used.set(index);
    return Optional.of(block(index));
  }

  /** The outcome of marking a block found in an existing allocation. */
  public enum Claim {
    CLAIMED,
    ALREADY_USED,
    NOT_IN_POOL
  }

  /** Marks an existing allocation as used. */
  public synchronized Claim claim(Ipv4Cidr cidr) {
    int index = indexOf(cidr);
    if (index < 0) {
      return Claim.NOT_IN_POOL;
    }
    if (used.get(index)) {
      return Claim.ALREADY_USED;
    }
    used.set(index);
    return Claim.CLAIMED;
  }

  /** Frees a block; blocks outside the pool are ignored. */
  public synchronized void release(Ipv4Cidr cidr) {
    int index = indexOf(cidr);
    if (index >= 0) {
      used.clear(index);
    }
  }

  private int indexOf(Ipv4Cidr cidr) {
    if (cidr.prefixLength() != maskSize || !pool.contains(cidr)) {
      return -1;
    }
    return (cidr.address() - pool.address()) >>> (32 - maskSize);
  }

  private Ipv4Cidr block(int index) {
    return new Ipv4Cidr(pool.address() + (index << (32 - maskSize)), maskSize);
  }
}
