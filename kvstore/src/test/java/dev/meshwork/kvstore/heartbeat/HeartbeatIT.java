package dev.meshwork.kvstore.heartbeat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.time.ManualClock;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class HeartbeatIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  @Test
  void aRemoteIsHealthyWhileItsWriterBeatsAndUnhealthyOnceTheHeartbeatAges() {
    ManualClock clock = new ManualClock();
    HeartbeatHealth health = new HeartbeatHealth(clock, Duration.ofMinutes(3));
    try (EtcdConnection connection =
            EtcdConnection.of("test etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
        HeartbeatWriter writer =
            new HeartbeatWriter(connection, "c1", "operator-0", Duration.ofMillis(200), clock);
        WatchStore<Heartbeat> reader =
            WatchStore.forKey(connection, KeyLayout.heartbeatKey("c1"), Codecs.HEARTBEAT, health.handler())
                .build()) {
      writer.start();
      reader.start();
      await().atMost(Duration.ofSeconds(10)).until(health::healthy);

      // The writer keeps writing: as time passes, newer heartbeats keep the remote healthy.
      clock.advance(Duration.ofMinutes(2));
      long beats = writer.beats();
      await().atMost(Duration.ofSeconds(10)).until(() -> writer.beats() > beats + 1);
      clock.advance(Duration.ofMinutes(2));
      await().atMost(Duration.ofSeconds(10)).until(health::healthy);

      // The writer stops: the heartbeat ages past the threshold.
      writer.close();
      clock.advance(Duration.ofMinutes(4));
      assertThat(health.healthy()).isFalse();
      assertThat(health.lastHeartbeat()).isPresent();
    }
  }
}
