package dev.meshwork.agent.datapath;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.datapath.DatapathException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConntrackCollectorTest {
  static final Duration TCP_IDLE = Duration.ofHours(6);
  static final Duration OTHER_IDLE = Duration.ofSeconds(60);

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<List<Duration>> sweeps = new CopyOnWriteArrayList<>();
  ConntrackCollector collector;

  @AfterEach
  void stop() throws InterruptedException {
    if (collector != null) collector.stop();
  }

  double counter(String name) {
    return registry.get(name).counter().count();
  }

  @Test
  void sweepsPeriodicallyWithTheConfiguredTimeoutsAndCountsWhatWent() {
    collector = new ConntrackCollector((tcp, other) -> {
      sweeps.add(List.of(tcp, other));
      return 3;
    }, Duration.ofMillis(20), TCP_IDLE, OTHER_IDLE, registry);
    assertThat(sweeps).as("nothing before start").isEmpty();

    collector.start();

    await().atMost(Duration.ofSeconds(5)).until(() -> sweeps.size() >= 3);
    assertThat(sweeps).allSatisfy(args -> assertThat(args).containsExactly(TCP_IDLE, OTHER_IDLE));
    assertThat(counter("meshwork_agent_conntrack_collected")).isGreaterThanOrEqualTo(9);
  }

  @Test
  void aFailedSweepIsCountedAndTheNextOneRunsOnSchedule() {
    AtomicInteger calls = new AtomicInteger();
    collector = new ConntrackCollector((tcp, other) -> {
      if (calls.incrementAndGet() == 1) throw new DatapathException("bpf(BPF_MAP_DELETE_BATCH) on conntrack: EPERM");
      return 1;
    }, Duration.ofMillis(20), TCP_IDLE, OTHER_IDLE, registry);
    collector.start();

    await().atMost(Duration.ofSeconds(5)).until(() -> calls.get() >= 3);
    assertThat(counter("meshwork_agent_conntrack_collect_failures")).isEqualTo(1);
    assertThat(counter("meshwork_agent_conntrack_collected")).isGreaterThanOrEqualTo(2);
  }

  @Test
  void noSweepRunsAfterStopSoTheDatapathCanClose() throws InterruptedException {
    AtomicInteger calls = new AtomicInteger();
    collector = new ConntrackCollector((tcp, other) -> {
      calls.incrementAndGet();
      return 0;
    }, Duration.ofMillis(20), TCP_IDLE, OTHER_IDLE, registry);
    collector.start();
    await().atMost(Duration.ofSeconds(5)).until(() -> calls.get() >= 1);

    collector.stop();
    int afterStop = calls.get();

    await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(1)).until(() -> calls.get() == afterStop);
  }
}
