package dev.meshwork.agent.endpoint;

import java.util.List;
import java.util.Optional;

/** A pod's security label set (as the operator derives it), looked up by namespace and name. */
@FunctionalInterface
public interface PodLabelSource {
  /**
   * @return the pod's label set, or empty when the pod is not known (yet)
   * @throws RuntimeException when the lookup failed (the caller retries)
   */
  Optional<List<String>> labelsOf(PodRef pod);
}
