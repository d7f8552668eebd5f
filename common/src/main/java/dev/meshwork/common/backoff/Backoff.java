package dev.meshwork.common.backoff;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter for retries.
 *
 * <p>Attempt {@code n} (from 1) waits {@code min(max, initial * multiplier^(n-1))} less a random
 * part of up to {@code jitter} of it, so a delay is never longer than {@code max} and retries of
 * many keys that failed together spread out instead of retrying in lockstep.
 *
 * @param initial the delay before the first retry (attempt 1), without jitter
 * @param max the longest delay
 * @param multiplier how much each attempt multiplies the delay, at least 1
 * @param jitter the fraction of a delay that is random, 0..1 (0.2: each delay is 80–100% of its
 *     base)
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {
  public Backoff {
    if (initial == null || initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("backoff initial delay must be positive, got " + initial);
    }
    if (max == null || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("backoff max delay " + max + " must be at least the initial delay " + initial);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("backoff multiplier must be at least 1, got " + multiplier);
    }
    if (!(jitter >= 0.0 && jitter <= 1.0)) {
      throw new IllegalArgumentException("backoff jitter must be within 0..1, got " + jitter);
    }
  }

  /** 200 ms, doubling up to 30 s, 20% jitter: the default for retrying etcd and Kubernetes calls. */
  public static Backoff standard() {
    return new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), 2.0, 0.2);
  }

  /** The same backoff without jitter (for tests and for delays that must be exact). */
  public Backoff withoutJitter() {
    return new Backoff(initial, max, multiplier, 0.0);
  }

  /** The delay before retry number {@code attempt} (1 = the first retry), with random jitter. */
  public Duration delay(int attempt) {
    return delay(attempt, ThreadLocalRandom.current());
  }

  /** The delay before retry number {@code attempt}, drawing the jitter from {@code random}. */
  public Duration delay(int attempt, RandomGenerator random) {
    Duration base = baseDelay(attempt);
    if (jitter == 0.0) {
      return base;
    }
    double factor = 1.0 - jitter * random.nextDouble();
    return Duration.ofNanos(Math.round(base.toNanos() * factor));
  }

  /** The delay before retry number {@code attempt} without jitter: the upper bound of {@link #delay}. */
  public Duration baseDelay(int attempt) {
    if (attempt < 1) {
      throw new IllegalArgumentException("backoff attempt must be at least 1, got " + attempt);
    }
    double nanos = initial.toNanos() * Math.pow(multiplier, attempt - 1);
    long maxNanos = max.toNanos();
    return nanos >= maxNanos ? max : Duration.ofNanos((long) nanos);
  }

  /** A fresh per-task sequence of delays: the first {@link Sequence#next()} is attempt 1. */
  public Sequence sequence() {
    return new Sequence(this, ThreadLocalRandom.current());
  }

  public Sequence sequence(RandomGenerator random) {
    return new Sequence(this, random);
  }

  /**
   * The retry state of one task: counts attempts, resets after a success. Not thread-safe: one per
   * key or task.
   */
  public static final class Sequence {
    private final Backoff backoff;
    private final RandomGenerator random;
    private int attempts;

    private Sequence(Backoff backoff, RandomGenerator random) {
      this.backoff = backoff;
      this.random = random;
    }

    /** Counts a failed attempt and returns how long to wait before the next one. */
    public Duration next() {
      if (attempts < Integer.MAX_VALUE) {
        attempts++;
      }
      return backoff.delay(attempts, random);
    }

    /** The number of failed attempts since the last reset. */
    public int attempts() {
      return attempts;
    }

    /** Forgets the failures after a success. */
    public void reset() {
      attempts = 0;
    }
  }
}
