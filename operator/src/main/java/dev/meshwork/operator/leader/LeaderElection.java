package dev.meshwork.operator.leader;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One active replica per cluster: fabric8 leader election on a coordination.k8s.io Lease. The
 * leader's duties start on a thread of their own (they wait for informers, and must not hold up
 * lease renewals); losing the Lease calls {@code onLost}, after which this replica must stop
 * writing at once.
 */
public final class LeaderElection {

  private static final Logger log = LoggerFactory.getLogger(LeaderElection.class);

  /** Timing of the election; renewDeadline must be shorter than leaseDuration. */
  public record Timing(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {}

  private final KubernetesClient client;
  private final String namespace;
  private final String leaseName;
  private final String identity;
  private final Timing timing;
  private final Runnable onElected;
  private final Runnable onLost;
  private final ExecutorService callbacks =
      Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("meshwork-leader").factory());
  private final ScheduledExecutorService watchdog =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("meshwork-leader-watchdog").factory());
  private volatile long confirmedAtNanos;
  private volatile CompletableFuture<?> election;
  private volatile boolean leader;
  private volatile boolean stopping;

  public LeaderElection(
      KubernetesClient client,
      String namespace,
      String leaseName,
      String identity,
      Timing timing,
      Runnable onElected,
      Runnable onLost) {
    this.client = client;
    this.namespace = namespace;
    this.leaseName = leaseName;
    this.identity = identity;
    this.timing = timing;
    this.onElected = onElected;
    this.onLost = onLost;
  }

  public void start() {
    var config =
        new LeaderElectionConfigBuilder()
            .withName(leaseName)
            .withLock(new LeaseLock(namespace, leaseName, identity))
            .withLeaseDuration(timing.leaseDuration())
            .withRenewDeadline(timing.renewDeadline())
            .withRetryPeriod(timing.retryPeriod())
            .withReleaseOnCancel(true)
            .withLeaderCallbacks(
                new LeaderCallbacks(this::elected, this::lost, this::newLeader))
            .build();
    log.info("{} campaigning for Lease {}/{}", identity, namespace, leaseName);
    election = client.leaderElector().withConfig(config).build().start();
    long period = timing.retryPeriod().toMillis();
    watchdog.scheduleWithFixedDelay(this::checkLease, period, period, TimeUnit.MILLISECONDS);
    // If the elector ends for any reason (its client closed, an error it gave up on), this
    // replica can no longer renew: treat that as losing the Lease.
    election.whenComplete(
        (result, error) -> {
          if (error != null && !stopping) {
            log.warn("leader election of {} ended: {}", identity, error.toString());
          }
          lost();
        });
  }

  public boolean isLeader() {
    return leader;
  }

  public String identity() {
    return identity;
  }

  /** Stops campaigning and releases the Lease if held, so a standby takes over at once. */
  public void stop() {
    stopping = true;
    CompletableFuture<?> running = election;
    if (running != null) {
      running.cancel(true);
    }
    callbacks.shutdown();
    watchdog.shutdownNow();
  }

  /**
   * The fence against split brain. fabric8's elector stops leading when renewals fail, but an
   * elector whose client died can end silently; this check does not rely on it: a leader that
   * cannot confirm from the API server that it still holds the Lease for longer than the renew
   * deadline (shorter than the lease duration) steps down before anyone else may take over.
   */
  private void checkLease() {
    if (!leader) {
      return;
    }
    try {
      Lease lease = client.leases().inNamespace(namespace).withName(leaseName).get();
      String holder = lease == null || lease.getSpec() == null ? null : lease.getSpec().getHolderIdentity();
      if (identity.equals(holder)) {
        confirmedAtNanos = System.nanoTime();
        return;
      }
      log.error("Lease {}/{} is now held by {}, not {}", namespace, leaseName, holder, identity);
      lost();
    } catch (RuntimeException e) {
      Duration unconfirmed = Duration.ofNanos(System.nanoTime() - confirmedAtNanos);
      if (unconfirmed.compareTo(timing.renewDeadline()) > 0) {
        log.error("{} could not confirm Lease {}/{} for {} ms: {}", identity, namespace, leaseName, unconfirmed.toMillis(), e.toString());
        lost();
      }
    }
  }

  private void elected() {
    confirmedAtNanos = System.nanoTime();
    leader = true;
    log.info("{} is the leader of Lease {}/{}", identity, namespace, leaseName);
    callbacks.execute(onElected);
  }

  private synchronized void lost() {
    boolean was = leader;
    leader = false;
    if (was && !stopping) {
      log.error("{} lost Lease {}/{}: stopping all writes", identity, namespace, leaseName);
      onLost.run();
    }
  }

  private void newLeader(String holder) {
    if (!identity.equals(holder)) {
      log.info("Lease {}/{} is held by {}; {} stands by", namespace, leaseName, holder, identity);
    }
  }
}
