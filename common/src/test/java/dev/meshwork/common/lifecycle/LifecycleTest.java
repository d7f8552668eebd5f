package dev.meshwork.common.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class LifecycleTest {
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final Lifecycle lifecycle = new Lifecycle();

  private void component(String name) {
    lifecycle.register(name, () -> events.add("start " + name), () -> events.add("stop " + name));
  }

  @Test
  void startsInRegistrationOrderAndStopsInReverse() {
    component("kvstore");
    component("watcher");
    component("api");

    lifecycle.start();
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.RUNNING);
    lifecycle.stop();

    assertThat(events).containsExactly(
        "start kvstore", "start watcher", "start api",
        "stop api", "stop watcher", "stop kvstore");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
    assertThat(lifecycle.failure()).isEmpty();
  }

  @Test
  void failedStartStopsWhatAlreadyStartedInReverseAndNamesTheHook() {
    component("kvstore");
    component("watcher");
    lifecycle.register("api", () -> {
      throw new IllegalStateException("port 4240 in use");
    }, () -> events.add("stop api"));
    component("never");

    assertThatThrownBy(lifecycle::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessage("start of 'api' failed: port 4240 in use")
        .hasCauseInstanceOf(IllegalStateException.class)
        .satisfies(e -> assertThat(((LifecycleException) e).hook()).isEqualTo("api"));

    assertThat(events).containsExactly("start kvstore", "start watcher", "stop watcher", "stop kvstore");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
    assertThat(lifecycle.failure()).get().asString().contains("port 4240 in use");
  }

  @Test
  void stopContinuesPastAFailingStopHook() {
    component("first");
    lifecycle.register("broken", () -> events.add("start broken"), () -> {
      throw new IllegalStateException("cannot close");
    });
    component("last");
    lifecycle.start();

    lifecycle.stop();

    assertThat(events).containsExactly("start first", "start broken", "start last", "stop last", "stop first");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
  }

  @Test
  void stopIsIdempotent() {
    component("only");
    lifecycle.start();

    lifecycle.stop();
    lifecycle.stop();

    assertThat(events).containsExactly("start only", "stop only");
  }

  @Test
  void stopBeforeStartIsAllowedAndStartAfterwardsIsRefused() {
    component("only");

    lifecycle.stop();

    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
    assertThatThrownBy(lifecycle::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("STOPPED");
    assertThat(events).isEmpty();
  }

  @Test
  void awaitShutdownReturnsOnceStopped() throws Exception {
    component("only");
    lifecycle.start();
    assertThat(lifecycle.awaitShutdown(Duration.ofMillis(20))).isFalse();

    Thread stopper = Thread.ofVirtual().start(lifecycle::stop);

    assertThat(lifecycle.awaitShutdown(Duration.ofSeconds(10))).isTrue();
    stopper.join();
    assertThat(events).containsExactly("start only", "stop only");
  }

  @Test
  void fatalErrorAfterStartStopsEverythingAndIsReported() throws Exception {
    component("kvstore");
    component("watcher");
    lifecycle.start();

    lifecycle.stopOnFatal(new IllegalStateException("watch loop died"));

    assertThat(lifecycle.awaitShutdown(Duration.ofSeconds(10))).isTrue();
    assertThat(events).containsExactly("start kvstore", "start watcher", "stop watcher", "stop kvstore");
    assertThat(lifecycle.failure()).get().asString().contains("watch loop died");
  }

  @Test
  void fatalErrorFromAThreadThatAStopHookJoinsDoesNotDeadlock() throws Exception {
    CountDownLatch failNow = new CountDownLatch(1);
    AtomicReference<Thread> worker = new AtomicReference<>();
    lifecycle.register("worker", () -> worker.set(Thread.ofPlatform().start(() -> {
      try {
        failNow.await();
      } catch (InterruptedException e) {
        return;
      }
      lifecycle.stopOnFatal(new IllegalStateException("worker failed"));
    })), () -> worker.get().join());
    lifecycle.start();

    failNow.countDown();

    assertThat(lifecycle.awaitShutdown(Duration.ofSeconds(10))).isTrue();
    assertThat(worker.get().isAlive()).isFalse();
  }

  @Test
  void stopRequestedWhileStartingStopsWhatStartedAndFailsTheStart() throws Exception {
    CountDownLatch inSecondStart = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    component("first");
    lifecycle.register("slow", () -> {
      inSecondStart.countDown();
      release.await();
      events.add("start slow");
    }, () -> events.add("stop slow"));
    component("never");
    AtomicReference<Throwable> startError = new AtomicReference<>();
    Thread starter = Thread.ofPlatform().start(() -> {
      try {
        lifecycle.start();
      } catch (Throwable e) {
        startError.set(e);
      }
    });
    assertThat(inSecondStart.await(10, TimeUnit.SECONDS)).isTrue();

    Thread stopper = Thread.ofPlatform().start(lifecycle::stop);
    await().until(() -> stopper.getState() == Thread.State.WAITING);
    release.countDown();
    starter.join(10_000);
    stopper.join(10_000);

    assertThat(startError.get()).isInstanceOf(LifecycleException.class).hasMessageContaining("stopped while starting");
    assertThat(events).containsExactly("start first", "start slow", "stop slow", "stop first");
    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
  }

  @Test
  void startHookAskingToStopAbortsTheStartCleanly() {
    component("first");
    lifecycle.register("quitter", lifecycle::stop, () -> events.add("stop quitter"));
    component("never");

    assertThatThrownBy(lifecycle::start).isInstanceOf(LifecycleException.class);

    assertThat(events).containsExactly("start first", "stop quitter", "stop first");
  }

  @Test
  void stopHookAskingToStopAgainDoesNotDeadlock() {
    lifecycle.register("reentrant", () -> {}, lifecycle::stop);
    lifecycle.start();

    lifecycle.stop();

    assertThat(lifecycle.state()).isEqualTo(Lifecycle.State.STOPPED);
  }

  @Test
  void rejectsDuplicateBlankAndLateRegistrations() {
    component("kvstore");

    assertThatThrownBy(() -> component("kvstore")).hasMessageContaining("'kvstore' is already registered");
    assertThatThrownBy(() -> lifecycle.register(" ", () -> {}, () -> {})).hasMessageContaining("must not be blank");
    lifecycle.start();
    assertThatThrownBy(() -> component("late")).isInstanceOf(IllegalStateException.class).hasMessageContaining("'late'");
    assertThatThrownBy(lifecycle::start).isInstanceOf(IllegalStateException.class);
    assertThat(lifecycle.names()).containsExactly("kvstore");
  }

  @Test
  void hookStillRunningAfterTheThresholdIsNamedInAWarning() throws Exception {
    ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(Lifecycle.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender = new ch.qos.logback.core.read.ListAppender<>();
    appender.start();
    logger.addAppender(appender);
    try {
      Lifecycle slow = new Lifecycle(Duration.ofMillis(50));
      CountDownLatch release = new CountDownLatch(1);
      slow.register("hanging-stop", () -> {}, release::await);
      slow.start();

      Thread stopper = Thread.ofVirtual().start(slow::stop);
      await().atMost(Duration.ofSeconds(10)).until(() -> appender.list.stream()
          .anyMatch(event -> event.getFormattedMessage().equals("stop of 'hanging-stop' is still running after 50 ms")));
      release.countDown();
      stopper.join();

      assertThat(slow.state()).isEqualTo(Lifecycle.State.STOPPED);
    } finally {
      logger.detachAppender(appender);
    }
  }
}
