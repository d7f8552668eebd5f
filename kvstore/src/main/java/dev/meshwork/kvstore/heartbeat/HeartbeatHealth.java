package dev.meshwork.kvstore.heartbeat;

import dev.meshwork.kvstore.settings.PositiveDuration;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.proto.v1.Heartbeat;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;

/**
 * Whether a cluster is healthy according to its heartbeat: healthy while the last heartbeat seen
 * is younger than {@code threshold}. Unhealthy is not gone: readers keep the cluster's state.
 *
 * <p>Feed it from a {@code WatchStore<Heartbeat>} on {@code meshwork/v1/heartbeat/<cluster>}
 * through {@link #handler()}, or call {@link #observe} directly. Thread-safe.
 */
public final class HeartbeatHealth {
  private final InstantSource clock;
  private final Duration threshold;
  private volatile Instant last;

  /**
   * @param clock the clock "now" comes from (a fake one in tests)
   * @param threshold the age after which a heartbeat is too old
   */
  public HeartbeatHealth(InstantSource clock, Duration threshold) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.threshold = PositiveDuration.require(threshold, "heartbeat threshold");
  }

  /** Records a heartbeat read from etcd (an older one than already seen is ignored). */
  public void observe(Heartbeat heartbeat) {
    Instant at = Instant.ofEpochMilli(heartbeat.getTimestampMillis());
    synchronized (this) {
      if (last == null || at.isAfter(last)) {
        last = at;
      }
    }
  }

  /** Forgets the heartbeat (its key was deleted). */
  public void forget() {
    last = null;
  }

  /** The timestamp of the newest heartbeat seen. */
  public Optional<Instant> lastHeartbeat() {
    return Optional.ofNullable(last);
  }

  /** The age of the newest heartbeat, if any. */
  public Optional<Duration> age() {
    Instant l = last;
    return l == null ? Optional.empty() : Optional.of(Duration.between(l, clock.instant()));
  }

  /** Whether a heartbeat younger than the threshold has been seen. */
  public boolean healthy() {
    return age().map(a -> a.compareTo(threshold) < 0).orElse(false);
  }

  /** A handler that feeds this health check from a WatchStore. */
  public WatchHandler<Heartbeat> handler() {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, Heartbeat value) {
        observe(value);
      }

      @Override
      public void onDelete(String key) {
        forget();
      }
    };
  }
}
