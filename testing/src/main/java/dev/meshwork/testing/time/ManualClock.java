package dev.meshwork.testing.time;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link Clock} (and so an {@link java.time.InstantSource}) that only moves when a test moves
 * it. Thread-safe: code under test may read it from other threads while the test advances it.
 */
public final class ManualClock extends Clock {
  /** Where a clock starts unless told otherwise: a fixed, recognisable instant. */
  public static final Instant DEFAULT_START = Instant.parse("2026-01-01T00:00:00Z");

  private final AtomicReference<Instant> now;
  private final ZoneId zone;

  private ManualClock(AtomicReference<Instant> now, ZoneId zone) {
    this.now = now;
    this.zone = zone;
  }

  public ManualClock() {
    this(DEFAULT_START);
  }

  public ManualClock(Instant start) {
    this(new AtomicReference<>(start), ZoneOffset.UTC);
  }

  public static ManualClock startingAt(Instant start) {
    return new ManualClock(start);
  }

  /** Moves the clock forward (or back, with a negative duration); returns the new instant. */
  public Instant advance(Duration duration) {
    return now.updateAndGet(instant -> instant.plus(duration));
  }

  public Instant advanceMillis(long millis) {
    return advance(Duration.ofMillis(millis));
  }

  public void set(Instant instant) {
    now.set(instant);
  }

  @Override
  public Instant instant() {
    return now.get();
  }

  @Override
  public long millis() {
    return now.get().toEpochMilli();
  }

  @Override
  public ZoneId getZone() {
    return zone;
  }

  /** A view in another zone that shares this clock's time (advancing one advances both). */
  @Override
  public ManualClock withZone(ZoneId zone) {
    return new ManualClock(now, zone);
  }

  @Override
  public String toString() {
    return "ManualClock[" + now.get() + ", " + zone + "]";
  }
}
