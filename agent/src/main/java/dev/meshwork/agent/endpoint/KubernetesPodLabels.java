package dev.meshwork.agent.endpoint;

import dev.meshwork.common.identity.PodSecurityLabels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A pod's label set from the local Kubernetes API: the pod is read by namespace and name (the
 * {@code K8S_POD_NAMESPACE}/{@code K8S_POD_NAME} of the CNI call) and its labels turned into the
 * label set with {@link PodSecurityLabels}, exactly as the operator does when it allocates the
 * identity.
 */
public final class KubernetesPodLabels implements PodLabelSource {
  private final KubernetesClient client;
  private final String cluster;

  public KubernetesPodLabels(KubernetesClient client, String cluster) {
    this.client = Objects.requireNonNull(client, "client");
    this.cluster = Objects.requireNonNull(cluster, "cluster");
  }

  @Override
  public Optional<List<String>> labelsOf(PodRef ref) {
    Pod pod = client.pods().inNamespace(ref.namespace()).withName(ref.name()).get();
    if (pod == null) {
      return Optional.empty();
    }
    return Optional.of(
        PodSecurityLabels.of(
            pod.getMetadata().getLabels(),
            ref.namespace(),
            pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName(),
            cluster));
  }
}
