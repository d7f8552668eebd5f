package dev.meshwork.testing.time;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class ManualClockTest {
  @Test
  void standsStillUntilAdvanced() {
    ManualClock clock = new ManualClock();

    assertThat(clock.instant()).isEqualTo(ManualClock.DEFAULT_START);
    assertThat(clock.instant()).isEqualTo(ManualClock.DEFAULT_START);
    assertThat(clock.advance(Duration.ofSeconds(90))).isEqualTo(ManualClock.DEFAULT_START.plusSeconds(90));
    assertThat(clock.millis()).isEqualTo(ManualClock.DEFAULT_START.plusSeconds(90).toEpochMilli());
  }

  @Test
  void canBeSetAnywhereAndUsedAsAnInstantSource() {
    ManualClock clock = ManualClock.startingAt(Instant.parse("2030-05-01T12:00:00Z"));
    InstantSource source = clock;

    clock.set(Instant.parse("2031-01-01T00:00:00Z"));
    clock.advanceMillis(250);

    assertThat(source.instant()).isEqualTo(Instant.parse("2031-01-01T00:00:00.250Z"));
  }

  @Test
  void zonedViewSharesTheTime() {
    ManualClock utc = new ManualClock();
    ManualClock paris = utc.withZone(ZoneId.of("Europe/Paris"));

    utc.advance(Duration.ofHours(1));

    assertThat(paris.instant()).isEqualTo(utc.instant());
    assertThat(paris.getZone()).isEqualTo(ZoneId.of("Europe/Paris"));
  }
}
