package dev.meshwork.datapath;

import java.util.Map;
import java.util.Set;

/** Everything a {@link Datapath} holds, keyed as in {@link ChangeSet}. Immutable. */
public record DatapathSnapshot(
    Map<IpPrefix, IpCacheEntry> ipcache,
    Map<L4Address, Service> services,
    Map<Integer, Endpoint> endpoints,
    Set<PolicyKey> policy) {

  public DatapathSnapshot {
    ipcache = Map.copyOf(ipcache);
    services = Map.copyOf(services);
    endpoints = Map.copyOf(endpoints);
    policy = Set.copyOf(policy);
  }

  public static DatapathSnapshot empty() {
    return new DatapathSnapshot(Map.of(), Map.of(), Map.of(), Set.of());
  }
}
