package dev.meshwork.e2e.reliability;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Service;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * A {@link FakeDatapath} that keeps a log of every removal the agent applied: a service backend
 * dropped (by an upsert without it or a service delete) or an ipcache entry deleted. The log is
 * computed against the datapath's own content before each batch, so it shows every delete that
 * reached the datapath, even one re-added a moment later.
 */
final class ChangeLogDatapath implements Datapath {
  /** One removal: what ({@code backend 10.2.1.1:8080/TCP of 172.21.0.1:80/TCP}, {@code ipcache 10.2.1.1/32}) and when. */
  record Removal(String what, long nanoTime) {}

  private final FakeDatapath fake = new FakeDatapath();
  private final List<Removal> removals = new ArrayList<>();
  private long lastApplied = System.nanoTime();

  @Override
  public synchronized void apply(ChangeSet changes) {
    long now = System.nanoTime();
    DatapathSnapshot before = fake.snapshot();
    for (Service upsert : changes.serviceUpserts()) {
      Service old = before.services().get(upsert.frontend());
      if (old == null) continue;
      Set<L4Address> kept = new HashSet<>(upsert.backends());
      for (L4Address backend : old.backends()) {
        if (!kept.contains(backend)) removals.add(new Removal("backend " + backend + " of " + upsert.frontend(), now));
      }
    }
    for (L4Address frontend : changes.serviceDeletes()) {
      Service old = before.services().get(frontend);
      if (old == null) continue;
      for (L4Address backend : old.backends()) {
        removals.add(new Removal("backend " + backend + " of " + frontend, now));
      }
    }
    for (IpPrefix prefix : changes.ipcacheDeletes()) {
      removals.add(new Removal("ipcache " + prefix, now));
    }
    fake.apply(changes);
    lastApplied = now;
  }

  @Override
  public synchronized DatapathSnapshot snapshot() {
    return fake.snapshot();
  }

  /** Every removal so far, oldest first. */
  synchronized List<Removal> removals() {
    return List.copyOf(removals);
  }

  /** The removals whose description matches, e.g. those of a cluster's pod range. */
  synchronized List<String> removals(Predicate<String> what) {
    return removals.stream().map(Removal::what).filter(what).toList();
  }

  synchronized void clearLog() {
    removals.clear();
  }

  /** When the last batch was applied ({@link System#nanoTime()}). */
  synchronized long lastAppliedNanos() {
    return lastApplied;
  }

  /** The backends programmed on {@code frontend}, as {@code ip:port/TCP}. */
  SortedSet<String> backends(L4Address frontend) {
    Service service = snapshot().services().get(frontend);
    SortedSet<String> out = new TreeSet<>();
    if (service != null) service.backends().forEach(b -> out.add(b.toString()));
    return out;
  }

  @Override
  public void close() {}
}
