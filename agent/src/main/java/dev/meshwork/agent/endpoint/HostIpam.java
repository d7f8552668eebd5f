package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import java.util.BitSet;
import java.util.OptionalInt;

/**
 * Host-scope IPAM over this node's pod CIDR: the first usable address is the pods' gateway, the
 * rest go to pods. The network and (for prefixes up to /30) broadcast addresses are never handed
 * out. Allocation continues after the last address handed out, so that a released address is not
 * reused at once (a late packet or a stale ipcache entry elsewhere in the mesh may still name it).
 * Not thread-safe: the {@link EndpointManager} serialises access. Persistence is the manager's:
 * the allocated set is rebuilt from the endpoint records at start-up.
 */
public final class HostIpam {
  private final IpPrefix cidr;
  private final int gateway;
  private final int first;
  private final int size;
  private final BitSet used;
  private int cursor;

  public HostIpam(IpPrefix cidr) {
    this.cidr = checkedPodCidr(cidr);
    this.gateway = cidr.address() + 1;
    this.first = cidr.address() + 2;
    // last usable = broadcast - 1
    this.size = (int) ((1L << (32 - cidr.length())) - 3);
    this.used = new BitSet(size);
  }

  /**
   * Returns {@code cidr} if a node can use it as its pod CIDR: a /8 to a /29 (gateway and pods).
   *
   * @throws IllegalArgumentException naming the CIDR otherwise
   */
  public static IpPrefix checkedPodCidr(IpPrefix cidr) {
    if (cidr.length() > 29) {
      throw new IllegalArgumentException("pod CIDR " + cidr + " is too small: a node needs at least a /29 (gateway and pods)");
    }
    if (cidr.length() < 8) {
      throw new IllegalArgumentException("pod CIDR " + cidr + " is too large for one node: at most a /8");
    }
    return cidr;
  }

  public IpPrefix cidr() {
    return cidr;
  }

  public int gateway() {
    return gateway;
  }

  /** Number of pod addresses in the CIDR. */
  public int capacity() {
    return size;
  }

  public int allocatedCount() {
    return used.cardinality();
  }

  /** Takes the next free address after the last one handed out, or empty when the CIDR is full. */
  public OptionalInt allocate() {
    int free = used.nextClearBit(cursor);
    if (free >= size) {
      free = used.nextClearBit(0);
      if (free >= size) {
        return OptionalInt.empty();
      }
    }
    used.set(free);
    cursor = free + 1;
    return OptionalInt.of(first + free);
  }

  /** Marks an address restored from disk as taken; false if it is outside the pod range or already taken. */
  public boolean reserve(int ip) {
    int offset = offsetOf(ip);
    if (offset < 0 || used.get(offset)) {
      return false;
    }
    used.set(offset);
    cursor = Math.max(cursor, offset + 1);
    return true;
  }

  public void release(int ip) {
    int offset = offsetOf(ip);
    if (offset >= 0) {
      used.clear(offset);
    }
  }

  public boolean isAllocated(int ip) {
    int offset = offsetOf(ip);
    return offset >= 0 && used.get(offset);
  }

  private int offsetOf(int ip) {
    if (!cidr.contains(ip)) {
      return -1;
    }
    long offset = Integer.toUnsignedLong(ip) - Integer.toUnsignedLong(first);
    return offset < 0 || offset >= size ? -1 : (int) offset;
  }

  @Override
  public String toString() {
    return "pod CIDR " + cidr + " (gateway " + Ipv4.format(gateway) + ", " + allocatedCount() + "/" + size + " in use)";
  }
}
