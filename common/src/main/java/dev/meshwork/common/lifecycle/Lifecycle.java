package dev.meshwork.common.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops the components of one process.
 *
 * <p>Components register a start hook and a stop hook while the process is wired. Registration
 * order is dependency order: {@link #start()} runs the start hooks in that order and {@link
 * #stop()} runs the stop hooks of the started components in reverse. A start failure stops what was
 * already started, so a process never runs half-started. A fatal error after start ({@link
 * #stopOnFatal}) shuts everything down cleanly and is reported by {@link #failure()}.
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);

  /** Where a lifecycle is. It only moves forward. */
  public enum State {
    NEW,
    STARTING,
    RUNNING,
    STOPPING,
    STOPPED
  }

  private record Hook(String name, StartHook start, StopHook stop) {}

  public Lifecycle() {
    this(DEFAULT_SLOW_HOOK);
  }

  /** @param slowHook how long a start or stop hook may run before a warning names it */
  public Lifecycle(Duration slowHook) {
    this.slowHook = slowHook;
  }

  /** How long a hook may run before a warning names it (a hung start or stop is otherwise silent). */
  public static final Duration DEFAULT_SLOW_HOOK = Duration.ofSeconds(10);

  private final Duration slowHook;
  private final Object lock = new Object();
  private final List<Hook> hooks = new ArrayList<>();
  private final List<Hook> started = new ArrayList<>();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private State state = State.NEW;
  private boolean stopRequested;
  private Thread startingThread;
  private Thread stoppingThread;
  private Thread shutdownHook;
  private Throwable failure;

  /**
   * Registers a component. Must be called before {@link #start()}.
   *
   * @throws IllegalArgumentException when the name is blank or already registered
   * @throws IllegalStateException when the lifecycle has already been started
   */
  public void register(String name, StartHook start, StopHook stop) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("lifecycle hook name must not be blank");
    }
    if (start == null || stop == null) {
      throw new IllegalArgumentException("lifecycle hook '" + name + "': start and stop hooks must not be null (use StartHook.none() / StopHook.none())");
    }
    synchronized (lock) {
      if (state != State.NEW) {
        throw new IllegalStateException("cannot register lifecycle hook '" + name + "': lifecycle is " + state);
      }
      for (Hook hook : hooks) {
        if (hook.name().equals(name)) {
          throw new IllegalArgumentException("lifecycle hook '" + name + "' is already registered");
        }
      }
      hooks.add(new Hook(name, start, stop));
    }
  }

  /** Registers a component that only needs stopping (e.g. a client created while wiring). */
  public void onStop(String name, StopHook stop) {
    register(name, StartHook.none(), stop);
  }

  /**
   * Runs the start hooks in registration order.
   *
   * @throws LifecycleException naming the hook that failed, after the hooks started before it have
   *     been stopped in reverse order; or when {@link #stop()} was called while starting
   * @throws IllegalStateException when called more than once
   */
  public void start() {
    List<Hook> toStart;
    synchronized (lock) {
      if (state != State.NEW) {
        throw new IllegalStateException("lifecycle cannot start: it is " + state);
      }
      state = State.STARTING;
      startingThread = Thread.currentThread();
      toStart = List.copyOf(hooks);
    }
    long begin = System.nanoTime();
    for (Hook hook : toStart) {
      synchronized (lock) {
        if (stopRequested) {
          break;
        }
      }
      long hookBegin = System.nanoTime();
      Thread watchdog = watch("start", hook.name());
      try {
        hook.start().start();
      } catch (Throwable e) {
        watchdog.interrupt();
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        log.error("start of '{}' failed; stopping the {} component(s) started before it", hook.name(), started.size(), e);
        synchronized (lock) {
          failure = e;
        }
        stopStarted();
        throw new LifecycleException(hook.name(), "start of '" + hook.name() + "' failed: " + describe(e), e);
      }
      watchdog.interrupt();
      synchronized (lock) {
        started.add(hook);
      }
      log.debug("started '{}' in {} ms", hook.name(), (System.nanoTime() - hookBegin) / 1_000_000);
    }
    synchronized (lock) {
      if (!stopRequested) {
        state = State.RUNNING;
        log.info("started {} component(s) in {} ms", started.size(), (System.nanoTime() - begin) / 1_000_000);
        return;
      }
    }
    stopStarted();
    throw new LifecycleException(null, "lifecycle was stopped while starting", null);
  }

  /**
   * Runs the stop hooks of the started components in reverse order. A failing stop hook is logged
   * and the others still run. Idempotent: later calls wait until the first one has finished. A
   * stop requested while starting makes {@link #start()} stop what it started and return with an
   * exception.
   */
  public void stop() {
    boolean own;
    boolean neverStarted = false;
    Thread current = Thread.currentThread();
    synchronized (lock) {
      switch (state) {
        case NEW -> {
          own = false;
          neverStarted = true;
          state = State.STOPPED;
        }
        case STARTING -> {
          stopRequested = true;
          if (startingThread == current) {
            return; // a start hook asked to stop: start() stops what it started
          }
          own = false;
        }
        case RUNNING -> {
          state = State.STOPPING;
          stoppingThread = current;
          own = true;
        }
        default -> {
          if (stoppingThread == current) {
            return; // a stop hook asked to stop again
          }
          own = false;
        }
      }
    }
    if (own) {
      stopStarted();
    } else if (neverStarted) {
      finishStop(0); // stopped before it was ever started
    } else {
      awaitUninterruptibly();
    }
  }

  /**
   * Reports a fatal error found after start (a background task that cannot go on): logs it and
   * stops the lifecycle on a separate thread, so that a stop hook may join the failing thread.
   * {@link #awaitShutdown()} then returns and {@link #failure()} holds the error.
   */
  public void stopOnFatal(Throwable error) {
    synchronized (lock) {
      if (failure == null) {
        failure = error;
      }
      if (state == State.STOPPED) {
        return;
      }
    }
    log.error("fatal error, stopping", error);
    Thread.ofPlatform().name("lifecycle-fatal-stop").start(this::stop);
  }

  /** Blocks until the lifecycle has stopped (all stop hooks have run). */
  public void awaitShutdown() throws InterruptedException {
    stopped.await();
  }

  /** Blocks until the lifecycle has stopped or the timeout elapsed; true when it has stopped. */
  public boolean awaitShutdown(Duration timeout) throws InterruptedException {
    return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  /**
   * Stops the lifecycle when the JVM shuts down (SIGTERM, SIGINT, System.exit). Installed once;
   * removed again when the lifecycle stops for another reason.
   */
  public void installShutdownHook() {
    synchronized (lock) {
      if (shutdownHook != null || state == State.STOPPED) {
        return;
      }
      shutdownHook = Thread.ofPlatform().name("lifecycle-shutdown").unstarted(this::stop);
      Runtime.getRuntime().addShutdownHook(shutdownHook);
    }
  }

  public State state() {
    synchronized (lock) {
      return state;
    }
  }

  /** The error that failed the start or was passed to {@link #stopOnFatal}, if any. */
  public Optional<Throwable> failure() {
    synchronized (lock) {
      return Optional.ofNullable(failure);
    }
  }

  /** The names of the registered hooks, in start order. */
  public List<String> names() {
    synchronized (lock) {
      return hooks.stream().map(Hook::name).toList();
    }
  }

  private void stopStarted() {
    List<Hook> toStop;
    synchronized (lock) {
      state = State.STOPPING;
      stoppingThread = Thread.currentThread();
      toStop = new ArrayList<>(started);
      started.clear();
    }
    try {
      for (Hook hook : toStop.reversed()) {
        Thread watchdog = watch("stop", hook.name());
        try {
          hook.stop().stop();
          log.debug("stopped '{}'", hook.name());
        } catch (Throwable e) {
          if (e instanceof InterruptedException) {
            Thread.currentThread().interrupt();
          }
          log.warn("stop of '{}' failed; stopping the others anyway", hook.name(), e);
        } finally {
          watchdog.interrupt();
        }
      }
    } finally {
      finishStop(toStop.size());
    }
  }

  private void finishStop(int count) {
    Thread hookToRemove;
    synchronized (lock) {
      state = State.STOPPED;
      hookToRemove = shutdownHook;
      shutdownHook = null;
    }
    stopped.countDown();
    if (hookToRemove != null && hookToRemove != Thread.currentThread()) {
      try {
        Runtime.getRuntime().removeShutdownHook(hookToRemove);
      } catch (IllegalStateException shuttingDown) {
        // the JVM is already running its shutdown hooks; ours will find the lifecycle stopped
      }
    }
    if (count > 0) {
      log.info("stopped {} component(s)", count);
    }
  }

  /** A virtual thread that warns when a hook is still running after {@link #slowHook}; interrupt it when the hook returns. */
  private Thread watch(String phase, String name) {
    return Thread.ofVirtual().name("lifecycle-watch-" + name).start(() -> {
      try {
        Thread.sleep(slowHook);
      } catch (InterruptedException done) {
        return;
      }
      log.warn("{} of '{}' is still running after {} ms", phase, name, slowHook.toMillis());
    });
  }

  private void awaitUninterruptibly() {
    boolean interrupted = false;
    while (true) {
      try {
        stopped.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static String describe(Throwable e) {
    return e.getMessage() != null ? e.getMessage() : e.getClass().getName();
  }
}
