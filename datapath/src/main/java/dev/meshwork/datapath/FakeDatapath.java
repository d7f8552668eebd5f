package dev.meshwork.datapath;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-memory {@link Datapath} for unit tests and scale benchmarks. It keeps exactly what the
 * kernel would and counts batches and changes, so tests can assert that a reconciler applies only
 * differences. Thread-safe.
 */
public final class FakeDatapath implements Datapath {
  private final Map<IpPrefix, IpCacheEntry> ipcache = new HashMap<>();
  private final Map<L4Address, Service> services = new HashMap<>();
  private final Map<Integer, Endpoint> endpoints = new HashMap<>();
  private final Set<PolicyKey> policy = new HashSet<>();
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong changes = new AtomicLong();

  @Override
  public synchronized void apply(ChangeSet c) {
    for (IpCacheEntry e : c.ipcacheUpserts()) ipcache.put(e.prefix(), e);
    for (Endpoint e : c.endpointUpserts()) endpoints.put(e.ip(), e);
    for (Service s : c.serviceUpserts()) services.put(s.frontend(), s);
    policy.addAll(c.policyAllows());
    c.policyRevokes().forEach(policy::remove);
    c.serviceDeletes().forEach(services::remove);
    c.endpointDeletes().forEach(endpoints::remove);
    c.ipcacheDeletes().forEach(ipcache::remove);
    batches.incrementAndGet();
    changes.addAndGet(c.size());
  }

  @Override
  public synchronized DatapathSnapshot snapshot() {
    return new DatapathSnapshot(ipcache, services, endpoints, policy);
  }

  /** Batches applied so far. */
  public long batchesApplied() {
    return batches.get();
  }

  /** Individual changes applied so far. */
  public long changesApplied() {
    return changes.get();
  }

  @Override
  public void close() {}
}
