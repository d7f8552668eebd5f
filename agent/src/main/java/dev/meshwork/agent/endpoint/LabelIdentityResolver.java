package dev.meshwork.agent.endpoint;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's {@link IdentityResolver}: the pod's label set from a {@link PodLabelSource} (the
 * Kubernetes API), then the id of that label set from the identity table the kvstore fills. Both
 * steps are retried by a {@link PollingIdentityResolver} until the timeout: the pod is read
 * (at most every {@link #POD_READ_INTERVAL}) until it is found, and once found its label set is
 * kept for the rest of the wait; the table is asked every interval until the operator's identity
 * has arrived. When the wait runs out, the log says which step was
 * missing.
 */
public final class LabelIdentityResolver implements IdentityResolver {
  private static final Logger log = LoggerFactory.getLogger(LabelIdentityResolver.class);

  /** How often the Kubernetes API is asked again for a pod it did not have. */
  static final Duration POD_READ_INTERVAL = Duration.ofMillis(500);

  private final PodLabelSource pods;
  private final Function<List<String>, OptionalInt> identities;
  private final Duration interval;

  /**
   * @param pods the label set of a pod
   * @param identities the id of a label set in the local cluster, if known
   * @param interval how often both are asked again while waiting
   */
  public LabelIdentityResolver(
      PodLabelSource pods, Function<List<String>, OptionalInt> identities, Duration interval) {
    this.pods = Objects.requireNonNull(pods, "pods");
    this.identities = Objects.requireNonNull(identities, "identities");
    this.interval = Objects.requireNonNull(interval, "interval");
  }

  @Override
  public Optional<PodIdentity> await(PodRef pod, Duration timeout) throws InterruptedException {
    AtomicReference<List<String>> labels = new AtomicReference<>();
    AtomicReference<String> lookupFailure = new AtomicReference<>();
    long[] nextPodRead = {System.nanoTime()};
    Optional<PodIdentity> found =
        new PollingIdentityResolver(
                ref -> {
                  if (labels.get() == null && System.nanoTime() - nextPodRead[0] >= 0) {
                    // the API is asked at most every POD_READ_INTERVAL while the pod is not found
                    nextPodRead[0] = System.nanoTime() + Math.max(POD_READ_INTERVAL.toNanos(), interval.toNanos());
                    try {
                      pods.labelsOf(ref).ifPresent(labels::set);
                    } catch (RuntimeException e) {
                      lookupFailure.set(e.getMessage());
                    }
                  }
                  List<String> set = labels.get();
                  if (set == null) {
                    return Optional.empty();
                  }
                  OptionalInt id = identities.apply(set);
                  return id.isPresent() ? Optional.of(new PodIdentity(id.getAsInt(), set)) : Optional.empty();
                },
                interval)
            .await(pod, timeout);
    if (found.isEmpty()) {
      if (labels.get() == null) {
        log.warn("no identity for {} after {} ms: the pod was not found in the Kubernetes API{}", pod,
            timeout.toMillis(), lookupFailure.get() == null ? "" : " (last error: " + lookupFailure.get() + ")");
      } else {
        log.warn("no identity for {} after {} ms: the operator has not published an identity for its labels {}",
            pod, timeout.toMillis(), labels.get());
      }
    }
    return found;
  }
}
