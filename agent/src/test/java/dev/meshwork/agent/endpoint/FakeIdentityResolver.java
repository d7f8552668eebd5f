package dev.meshwork.agent.endpoint;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Identities set by the test; {@link #await} waits (bounded) for one to be published, like the operator would. */
final class FakeIdentityResolver implements IdentityResolver {
  private final Map<PodRef, PodIdentity> identities = new HashMap<>();
  private int waiting;

  /** How many callers are waiting right now. */
  synchronized int waiting() {
    return waiting;
  }

  synchronized void publish(PodRef pod, PodIdentity identity) {
    identities.put(pod, identity);
    notifyAll();
  }

  @Override
  public synchronized Optional<PodIdentity> await(PodRef pod, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    waiting++;
    try {
      while (!identities.containsKey(pod)) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.empty();
        }
        wait(Math.max(1, left / 1_000_000));
      }
      return Optional.of(identities.get(pod));
    } finally {
      waiting--;
    }
  }
}
