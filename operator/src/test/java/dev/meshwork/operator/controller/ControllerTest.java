package dev.meshwork.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ControllerTest {

  private static final Duration WAIT = Duration.ofSeconds(20);
  private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
  private Controller controller;

  @AfterEach
  void stop() {
    if (controller != null) {
      controller.stop();
    }
  }

  private Controller start(Reconciler reconciler, String... keys) {
    controller = Controller.builder("test", reconciler, new SimpleMeterRegistry())
        .initialKeys(() -> List.of(keys))
        .workers(2)
        .build();
    controller.start();
    return controller;
  }

  @Test
  void theInitialSyncWaitsUntilAKeyWhoseReconcileFailedHasSucceeded() {
    AtomicBoolean apiBack = new AtomicBoolean();
    start(key -> {
      attempts.merge(key, 1, Integer::sum);
      if (key.equals("node-5") && !apiBack.get()) {
        throw new IllegalStateException("timeout writing MeshNode node-5");
      }
      return ReconcileResult.done();
    }, "node-1", "node-5");

    await().atMost(WAIT).until(() -> attempts.getOrDefault("node-5", 0) >= 2 && attempts.containsKey("node-1"));
    assertThat(controller.initialSync()).as("node-5 is not written yet").isNotDone();

    apiBack.set(true);
    await().atMost(WAIT).until(() -> controller.initialSync().isDone());
  }

  @Test
  void aKeyThatKeepsFailingCountsAsSyncedAfterFiveAttemptsSoTheCanaryIsNotHeldBackForever() {
    start(key -> {
      attempts.merge(key, 1, Integer::sum);
      if (key.equals("broken")) {
        throw new IllegalStateException("always fails");
      }
      return ReconcileResult.done();
    }, "fine", "broken");

    await().atMost(WAIT).until(() -> controller.initialSync().isDone());
    assertThat(attempts.get("broken")).isGreaterThanOrEqualTo(Controller.INITIAL_SYNC_ATTEMPTS);
  }
}
