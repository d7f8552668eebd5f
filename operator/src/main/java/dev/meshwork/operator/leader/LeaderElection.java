package dev.meshwork.operator.leader;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfigBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
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
  }

  private void elected() {
    leader = true;
    log.info("{} is the leader of Lease {}/{}", identity, namespace, leaseName);
    callbacks.execute(onElected);
  }

  private void lost() {
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
