package dev.meshwork.agent.endpoint;

import java.time.Duration;
import java.util.Optional;

/**
 * Finds a pod's security identity. The operator writes identities asynchronously, so a fresh pod
 * may not have one yet when its CNI ADD arrives: implementations wait up to {@code timeout}.
 */
public interface IdentityResolver {
  /**
   * @return the pod's identity, or empty when none was known within {@code timeout}
   * @throws InterruptedException if the waiting thread is interrupted
   */
  Optional<PodIdentity> await(PodRef pod, Duration timeout) throws InterruptedException;
}
