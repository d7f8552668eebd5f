package dev.meshwork.datapath;

import java.util.ArrayList;
import java.util.List;

/**
 * One batch of differences for {@link Datapath#apply}. Keys: ipcache by prefix, services by
 * frontend, endpoints by IP, policy entries are the whole {@link PolicyKey}.
 *
 * <p>Applied in an order that never opens a gap: ipcache and endpoint upserts, then service
 * upserts, then policy allows; then policy revokes, service deletes, endpoint and ipcache deletes.
 */
public record ChangeSet(
    List<IpCacheEntry> ipcacheUpserts,
    List<IpPrefix> ipcacheDeletes,
    List<Service> serviceUpserts,
    List<L4Address> serviceDeletes,
    List<Endpoint> endpointUpserts,
    List<Integer> endpointDeletes,
    List<PolicyKey> policyAllows,
    List<PolicyKey> policyRevokes) {

  public ChangeSet {
    ipcacheUpserts = List.copyOf(ipcacheUpserts);
    ipcacheDeletes = List.copyOf(ipcacheDeletes);
    serviceUpserts = List.copyOf(serviceUpserts);
    serviceDeletes = List.copyOf(serviceDeletes);
    endpointUpserts = List.copyOf(endpointUpserts);
    endpointDeletes = List.copyOf(endpointDeletes);
    policyAllows = List.copyOf(policyAllows);
    policyRevokes = List.copyOf(policyRevokes);
  }

  public static Builder builder() {
    return new Builder();
  }

  public boolean isEmpty() {
    return size() == 0;
  }

  /** The number of individual changes in the batch. */
  public int size() {
    return ipcacheUpserts.size()
        + ipcacheDeletes.size()
        + serviceUpserts.size()
        + serviceDeletes.size()
        + endpointUpserts.size()
        + endpointDeletes.size()
        + policyAllows.size()
        + policyRevokes.size();
  }

  /** Collects changes; not thread-safe. */
  public static final class Builder {
    private final List<IpCacheEntry> ipcacheUpserts = new ArrayList<>();
    private final List<IpPrefix> ipcacheDeletes = new ArrayList<>();
    private final List<Service> serviceUpserts = new ArrayList<>();
    private final List<L4Address> serviceDeletes = new ArrayList<>();
    private final List<Endpoint> endpointUpserts = new ArrayList<>();
    private final List<Integer> endpointDeletes = new ArrayList<>();
    private final List<PolicyKey> policyAllows = new ArrayList<>();
    private final List<PolicyKey> policyRevokes = new ArrayList<>();

    public Builder upsert(IpCacheEntry entry) {
      ipcacheUpserts.add(entry);
      return this;
    }

    public Builder deleteIpCache(IpPrefix prefix) {
      ipcacheDeletes.add(prefix);
      return this;
    }

    public Builder upsert(Service service) {
      serviceUpserts.add(service);
      return this;
    }

    public Builder deleteService(L4Address frontend) {
      serviceDeletes.add(frontend);
      return this;
    }

    public Builder upsert(Endpoint endpoint) {
      endpointUpserts.add(endpoint);
      return this;
    }

    public Builder deleteEndpoint(int ip) {
      endpointDeletes.add(ip);
      return this;
    }

    public Builder allow(PolicyKey key) {
      policyAllows.add(key);
      return this;
    }

    public Builder revoke(PolicyKey key) {
      policyRevokes.add(key);
      return this;
    }

    public ChangeSet build() {
      return new ChangeSet(
          ipcacheUpserts,
          ipcacheDeletes,
          serviceUpserts,
          serviceDeletes,
          endpointUpserts,
          endpointDeletes,
          policyAllows,
          policyRevokes);
    }
  }
}
