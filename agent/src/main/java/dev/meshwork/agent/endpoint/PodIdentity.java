package dev.meshwork.agent.endpoint;

import java.util.List;

/** A pod's security identity as the operator allocated it: the numeric id and its labels. */
public record PodIdentity(int id, List<String> labels) {
  public PodIdentity {
    if (id <= 0) {
      throw new IllegalArgumentException("identity id must be positive, got " + id);
    }
    labels = List.copyOf(labels);
  }
}
