package dev.meshwork.agent.endpoint;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * An {@link IdentityResolver} over a non-blocking lookup (for example the agent's identity and
 * pod tables): asks the lookup, and while it has no answer asks again every {@code interval}
 * until the timeout. Polling keeps the tables free of waiter bookkeeping; ADDs are rare.
 */
public final class PollingIdentityResolver implements IdentityResolver {
  private final Function<PodRef, Optional<PodIdentity>> lookup;
  private final Duration interval;

  public PollingIdentityResolver(Function<PodRef, Optional<PodIdentity>> lookup, Duration interval) {
    this.lookup = Objects.requireNonNull(lookup, "lookup");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("identity poll interval must be positive, got " + interval);
    }
    this.interval = interval;
  }

  @Override
  public Optional<PodIdentity> await(PodRef pod, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<PodIdentity> found = lookup.apply(pod);
      if (found.isPresent()) {
        return found;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return Optional.empty();
      }
      Thread.sleep(Duration.ofNanos(Math.min(left, interval.toNanos())));
    }
  }
}
