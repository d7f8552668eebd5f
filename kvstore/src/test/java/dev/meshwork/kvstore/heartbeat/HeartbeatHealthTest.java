package dev.meshwork.kvstore.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.testing.time.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class HeartbeatHealthTest {
  private final ManualClock clock = new ManualClock();
  private final HeartbeatHealth health = new HeartbeatHealth(clock, Duration.ofMinutes(3));

  private Heartbeat beatNow() {
    return Heartbeat.newBuilder().setTimestampMillis(clock.millis()).setWriter("test").build();
  }

  @Test
  void unhealthyUntilAHeartbeatIsSeen() {
    assertThat(health.healthy()).isFalse();
    assertThat(health.lastHeartbeat()).isEmpty();
  }

  @Test
  void healthyWhileTheHeartbeatIsYoungerThanTheThreshold() {
    health.observe(beatNow());
    clock.advance(Duration.ofMinutes(2));
    assertThat(health.healthy()).isTrue();
    clock.advance(Duration.ofMinutes(1));
    assertThat(health.healthy()).isFalse();
    health.observe(beatNow());
    assertThat(health.healthy()).isTrue();
  }

  @Test
  void anOlderHeartbeatDoesNotReplaceANewerOne() {
    Heartbeat newer = beatNow();
    Heartbeat older = Heartbeat.newBuilder().setTimestampMillis(clock.millis() - 600_000).build();
    health.observe(newer);
    health.observe(older);
    assertThat(health.lastHeartbeat()).hasValue(clock.instant());
  }

  @Test
  void aDeletedHeartbeatIsUnhealthy() {
    health.handler().onUpsert("meshwork/v1/heartbeat/c1", beatNow());
    assertThat(health.healthy()).isTrue();
    health.handler().onDelete("meshwork/v1/heartbeat/c1");
    assertThat(health.healthy()).isFalse();
  }
}
