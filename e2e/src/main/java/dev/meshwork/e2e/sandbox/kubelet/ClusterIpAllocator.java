package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Hands out ClusterIPs from the service CIDR: the lowest free address, never the network
 * address, its first address (kept for the API server's own {@code kubernetes} Service, as in
 * Kubernetes) or the broadcast address. An address is in use when a Service in the cache has it
 * or when this allocator gave it to a Service the cache does not show with it yet.
 */
final class ClusterIpAllocator {

  private final IpPrefix cidr;
  /** Service key → address handed out by this allocator, until the Service is deleted. */
  private final Map<String, Integer> handedOut = new HashMap<>();

  ClusterIpAllocator(IpPrefix cidr) {
    this.cidr = cidr;
  }

  /**
   * The address for the Service {@code key}.
   *
   * @param inUse the ClusterIPs of the Services in the cache (other than {@code key})
   */
  synchronized Optional<String> allocate(String key, Collection<String> inUse) {
    Integer earlier = handedOut.get(key);
    if (earlier != null) {
      return Optional.of(Ipv4.format(earlier));
    }
    Set<Integer> used = new HashSet<>(handedOut.values());
    for (String ip : inUse) {
      try {
        used.add(Ipv4.parse(ip));
      } catch (IllegalArgumentException e) {
        // "None" (headless) or garbage: not an address of ours
      }
    }
    long size = 1L << (32 - cidr.length());
    for (long offset = 2; offset < size - 1; offset++) {
      int candidate = cidr.address() + (int) offset;
      if (!used.contains(candidate)) {
        handedOut.put(key, candidate);
        return Optional.of(Ipv4.format(candidate));
      }
    }
    return Optional.empty();
  }

  /** Forgets the address of a Service that is gone (or was not given it after all). */
  synchronized void release(String key) {
    handedOut.remove(key);
  }

  IpPrefix cidr() {
    return cidr;
  }
}
