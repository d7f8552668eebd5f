package dev.meshwork.agent.datapath;

import dev.meshwork.datapath.DatapathException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes idle connection-tracking entries periodically. The eBPF programs keep no timers (they
 * only refresh an entry's last-seen time), so the timeouts live here. A failed sweep is logged
 * and the next one runs on schedule: a sweep only frees space, nothing depends on it.
 */
public final class ConntrackCollector {
  private static final Logger log = LoggerFactory.getLogger(ConntrackCollector.class);

  /** One sweep of the conntrack map, e.g. {@code BpfDatapath::collectConntrack}. */
  @FunctionalInterface
  public interface Sweep {
    /** Deletes entries idle longer than their timeout and returns how many went. */
    int collect(Duration tcpIdle, Duration otherIdle) throws DatapathException;
  }

  private final Sweep sweep;
  private final Duration interval;
  private final Duration tcpIdle;
  private final Duration otherIdle;
  private final Counter collected;
  private final Counter failures;
  private ScheduledExecutorService scheduler;

  public ConntrackCollector(Sweep sweep, Duration interval, Duration tcpIdle, Duration otherIdle, MeterRegistry registry) {
    this.sweep = Objects.requireNonNull(sweep, "sweep");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("conntrack collection interval must be positive: " + interval);
    }
    this.interval = interval;
    this.tcpIdle = Objects.requireNonNull(tcpIdle, "tcpIdle");
    this.otherIdle = Objects.requireNonNull(otherIdle, "otherIdle");
    this.collected =
        Counter.builder("meshwork_agent_conntrack_collected")
            .description("Idle connection-tracking entries deleted")
            .register(registry);
    this.failures =
        Counter.builder("meshwork_agent_conntrack_collect_failures")
            .description("Connection-tracking sweeps that failed")
            .register(registry);
  }

  public synchronized void start() {
    if (scheduler != null) {
      return;
    }
    scheduler =
        Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform().name("conntrack-gc").daemon().unstarted(r));
    long millis = interval.toMillis();
    scheduler.scheduleWithFixedDelay(this::sweepOnce, millis, millis, TimeUnit.MILLISECONDS);
    log.info("collecting idle conntrack entries every {} (TCP idle {}, other idle {})", interval, tcpIdle, otherIdle);
  }

  public synchronized void stop() throws InterruptedException {
    if (scheduler == null) {
      return;
    }
    scheduler.shutdownNow();
    if (!scheduler.awaitTermination(5, TimeUnit.SECONDS)) {
      log.warn("conntrack sweep still running after 5 s; the datapath closes anyway");
    }
    scheduler = null;
  }

  void sweepOnce() {
    try {
      int removed = sweep.collect(tcpIdle, otherIdle);
      collected.increment(removed);
      if (removed > 0) {
        log.debug("deleted {} idle conntrack entries", removed);
      }
    } catch (DatapathException | RuntimeException e) {
      failures.increment();
      log.warn("conntrack sweep failed; retrying in {}: {}", interval, e.getMessage());
    }
  }
}
