package dev.meshwork.operator.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WorkQueueTest {

  private final WorkQueue queue = new WorkQueue("test");

  @AfterEach
  void shutDown() {
    queue.shutDown();
  }

  @Test
  void aKeyAddedTwiceIsQueuedOnce() throws Exception {
    queue.add("testing/backend-svc");
    queue.add("testing/backend-svc");
    queue.add("testing/frontend-svc");

    assertThat(queue.depth()).isEqualTo(2);
    assertThat(queue.take().orElseThrow().key()).isEqualTo("testing/backend-svc");
    assertThat(queue.take().orElseThrow().key()).isEqualTo("testing/frontend-svc");
  }

  @Test
  void aKeyAddedWhileBeingProcessedIsHandedOutAgainOnlyAfterDone() throws Exception {
    queue.add("a");
    String taken = queue.take().orElseThrow().key();
    queue.add("a");
    assertThat(queue.depth()).isZero();

    queue.done(taken);

    assertThat(queue.depth()).isEqualTo(1);
    assertThat(queue.take().orElseThrow().key()).isEqualTo("a");
  }

  @Test
  void anImmediateAddPreemptsADelayedOne() throws Exception {
    queue.addAfter("a", Duration.ofHours(1));
    assertThat(queue.depth()).isZero();

    queue.add("a");

    assertThat(queue.take().orElseThrow().key()).isEqualTo("a");
    queue.done("a");
    assertThat(queue.depth()).isZero();
  }

  @Test
  void aDelayedAddArrivesAfterTheDelay() {
    queue.addAfter("a", Duration.ofMillis(50));
    await().atMost(Duration.ofSeconds(5)).until(() -> queue.depth() == 1);
  }

  @Test
  void takeReturnsEmptyOnceShutDown() throws Exception {
    queue.shutDown();
    assertThat(queue.take()).isEmpty();
  }
}
