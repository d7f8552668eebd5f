package dev.meshwork.datapath;

/**
 * One ipcache entry: a pod IP (/32) or a remote node's pod CIDR, the security identity of the
 * traffic that comes from it, and the node IP to tunnel to ({@code tunnelEndpoint}, 0 when the
 * prefix is local and needs no tunnel). Remote pod CIDRs with their node IP are the tunnel map.
 */
public record IpCacheEntry(IpPrefix prefix, int identity, int tunnelEndpoint) {
  public IpCacheEntry {
    java.util.Objects.requireNonNull(prefix, "prefix");
  }

  public boolean tunnelled() {
    return tunnelEndpoint != 0;
  }
}
