package dev.meshwork.bench.scenario;

import java.util.concurrent.locks.LockSupport;

/**
 * Paces a load loop at a fixed rate: {@link #awaitNext()} returns at evenly spaced instants from
 * the first call on, without drift (a late step shortens the next wait rather than moving the
 * schedule).
 */
public final class FixedRate {
  private final long interval;
  private long next = System.nanoTime();

  /** A pacer of {@code perSecond} steps per second, starting now. */
  public FixedRate(int perSecond) {
    this.interval = 1_000_000_000L / perSecond;
  }

  /** Parks until the next step is due. */
  public void awaitNext() {
    long wait = next - System.nanoTime();
    if (wait > 0) {
      LockSupport.parkNanos(wait);
    }
    next += interval;
  }
}
