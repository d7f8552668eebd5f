package dev.meshwork.common.backoff;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {
  private static final Backoff NO_JITTER = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, 0.0);

  @Test
  void firstAttemptWaitsTheInitialDelayAndEachNextOneMultipliesIt() {
    assertThat(NO_JITTER.delay(1)).isEqualTo(Duration.ofMillis(100));
    assertThat(NO_JITTER.delay(2)).isEqualTo(Duration.ofMillis(200));
    assertThat(NO_JITTER.delay(3)).isEqualTo(Duration.ofMillis(400));
    assertThat(NO_JITTER.delay(5)).isEqualTo(Duration.ofMillis(1600));
  }

  @Test
  void delayNeverExceedsTheMaximumEvenForHugeAttemptCounts() {
    assertThat(NO_JITTER.delay(6)).isEqualTo(Duration.ofSeconds(2));
    assertThat(NO_JITTER.delay(1_000)).isEqualTo(Duration.ofSeconds(2));
    assertThat(NO_JITTER.delay(Integer.MAX_VALUE)).isEqualTo(Duration.ofSeconds(2));
    assertThat(Backoff.standard().delay(Integer.MAX_VALUE)).isLessThanOrEqualTo(Duration.ofSeconds(30));
  }

  @Test
  void jitterKeepsEveryDelayWithinItsBandBelowTheBase() {
    Backoff backoff = Backoff.standard();
    SplittableRandom random = new SplittableRandom(1);
    for (int attempt = 1; attempt <= 20; attempt++) {
      Duration base = backoff.baseDelay(attempt);
      for (int i = 0; i < 200; i++) {
        Duration delay = backoff.delay(attempt, random);
        assertThat(delay).isLessThanOrEqualTo(base).isGreaterThanOrEqualTo(Duration.ofNanos((long) (base.toNanos() * 0.8)));
      }
    }
  }

  @Test
  void jitterSpreadsDelaysApart() {
    Backoff backoff = Backoff.standard();
    SplittableRandom random = new SplittableRandom(7);
    Set<Duration> delays = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      delays.add(backoff.delay(3, random));
    }
    assertThat(delays).hasSizeGreaterThan(90);
  }

  @Test
  void sameRandomSeedGivesTheSameDelays() {
    Backoff backoff = Backoff.standard();
    SplittableRandom first = new SplittableRandom(42);
    SplittableRandom second = new SplittableRandom(42);
    for (int attempt = 1; attempt <= 10; attempt++) {
      assertThat(backoff.delay(attempt, first)).isEqualTo(backoff.delay(attempt, second));
    }
  }

  @Test
  void standardIs200MillisDoublingTo30SecondsWith20PercentJitter() {
    Backoff standard = Backoff.standard();

    assertThat(standard).isEqualTo(new Backoff(Duration.ofMillis(200), Duration.ofSeconds(30), 2.0, 0.2));
    assertThat(standard.baseDelay(1)).isEqualTo(Duration.ofMillis(200));
    assertThat(standard.baseDelay(8)).isEqualTo(Duration.ofMillis(25_600));
    assertThat(standard.baseDelay(9)).isEqualTo(Duration.ofSeconds(30));
    assertThat(standard.withoutJitter().delay(2)).isEqualTo(Duration.ofMillis(400));
  }

  @Test
  void sequenceCountsAttemptsAndResetsAfterSuccess() {
    Backoff.Sequence sequence = NO_JITTER.sequence();

    assertThat(sequence.next()).isEqualTo(Duration.ofMillis(100));
    assertThat(sequence.next()).isEqualTo(Duration.ofMillis(200));
    assertThat(sequence.attempts()).isEqualTo(2);
    sequence.reset();
    assertThat(sequence.attempts()).isZero();
    assertThat(sequence.next()).isEqualTo(Duration.ofMillis(100));
  }

  @Test
  void refusesNonsense() {
    assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), 2, 0)).hasMessageContaining("initial delay must be positive");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), 2, 0)).hasMessageContaining("at least the initial delay");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), 0.5, 0)).hasMessageContaining("multiplier must be at least 1");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 1.5)).hasMessageContaining("jitter must be within 0..1");
    assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(1), Duration.ofSeconds(1), Double.NaN, 0)).hasMessageContaining("multiplier");
    assertThatThrownBy(() -> NO_JITTER.delay(0)).hasMessageContaining("attempt must be at least 1");
  }
}
