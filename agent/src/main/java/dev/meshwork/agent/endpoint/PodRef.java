package dev.meshwork.agent.endpoint;

import java.util.Objects;

/** A Kubernetes pod by namespace and name (from {@code K8S_POD_NAMESPACE}/{@code K8S_POD_NAME}). */
public record PodRef(String namespace, String name) {
  public PodRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  @Override
  public String toString() {
    return "pod " + namespace + "/" + name;
  }
}
