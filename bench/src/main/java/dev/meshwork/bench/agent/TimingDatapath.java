package dev.meshwork.bench.agent;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A datapath that keeps nothing (the kernel's memory is not the agent's) and times expected
 * changes: the benchmark says what it wrote to etcd and when; the first batch that carries it
 * records the latency.
 */
final class TimingDatapath implements Datapath {
  record Expected(long expectedValue, long startNanos) {}

  final Map<Integer, Expected> pendingIps = new ConcurrentHashMap<>();
  final Map<Integer, Expected> pendingServices = new ConcurrentHashMap<>(); // frontend ip -> backend count
  final List<Long> ipLatencies = new ArrayList<>();
  final List<Long> serviceLatencies = new ArrayList<>();
  final AtomicLong batches = new AtomicLong();
  final AtomicLong changes = new AtomicLong();
  volatile boolean recording;

  @Override
  public void apply(ChangeSet c) {
    long now = System.nanoTime();
    batches.incrementAndGet();
    changes.addAndGet(c.size());
    for (IpCacheEntry e : c.ipcacheUpserts()) {
      if (e.prefix().length() != 32) continue;
      Expected x = pendingIps.get(e.prefix().address());
      if (x != null && x.expectedValue() == e.identity() && pendingIps.remove(e.prefix().address(), x)) {
        record(ipLatencies, now - x.startNanos());
      }
    }
    for (Service s : c.serviceUpserts()) {
      Expected x = pendingServices.get(s.frontend().ip());
      if (x != null && x.expectedValue() == s.backends().size() && pendingServices.remove(s.frontend().ip(), x)) {
        record(serviceLatencies, now - x.startNanos());
      }
    }
  }

  private void record(List<Long> into, long nanos) {
    if (recording) {
      synchronized (into) {
        into.add(nanos);
      }
    }
  }

  @Override
  public DatapathSnapshot snapshot() {
    return DatapathSnapshot.empty();
  }

  @Override
  public void close() {}
}
