package dev.meshwork.kvstoresync.mirror;

import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Measures how long a remote change takes to reach the local etcd: the time from the remote
 * watch event to the local watch event of the mirrored key.
 *
 * <p>Only changes the writer will actually write are timed: a value equal to the one mirrored
 * last (an unchanged key relisted) is not, since no local event would ever end it.
 */
final class MirrorLag {
  private final Map<String, Long> pendingSince = new ConcurrentHashMap<>();
  private final Map<String, Integer> lastValueHash = new ConcurrentHashMap<>();
  private final Timer timer;

  MirrorLag(Timer timer) {
    this.timer = timer;
  }

  /** The remote changed {@code cacheKey} to a value with this hash. */
  void changed(String cacheKey, int valueHash) {
    Integer old = lastValueHash.put(cacheKey, valueHash);
    if (old == null || old != valueHash) {
      pendingSince.putIfAbsent(cacheKey, System.nanoTime());
    }
  }

  /** The remote deleted {@code cacheKey}. */
  void deleted(String cacheKey) {
    if (lastValueHash.remove(cacheKey) != null) {
      pendingSince.putIfAbsent(cacheKey, System.nanoTime());
    }
  }

  /** The local etcd reported a write of {@code cacheKey}. */
  void written(String cacheKey) {
    Long since = pendingSince.remove(cacheKey);
    if (since != null) {
      timer.record(System.nanoTime() - since, TimeUnit.NANOSECONDS);
    }
  }

  /** How long the oldest change not yet written has waited, in ms; 0 if none. */
  long oldestPendingMillis() {
    long now = System.nanoTime();
    long oldest = 0;
    for (long since : pendingSince.values()) {
      oldest = Math.max(oldest, now - since);
    }
    return TimeUnit.NANOSECONDS.toMillis(oldest);
  }

  /** Forgets everything (the mirror restarts from a fresh list). */
  void reset() {
    pendingSince.clear();
    lastValueHash.clear();
  }

  Timer timer() {
    return timer;
  }
}
