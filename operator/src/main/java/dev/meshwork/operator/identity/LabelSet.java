package dev.meshwork.operator.identity;

import dev.meshwork.common.identity.PodSecurityLabels;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.TreeSet;

/**
 * The sorted security labels of a pod, each {@code k8s:<key>=<value>} (ARCHITECTURE.md,
 * identities): its pod labels, its namespace, its cluster and its service account, as
 * {@link PodSecurityLabels} derives them (the agent uses the same derivation). Pods with equal
 * label sets share one identity.
 */
public record LabelSet(List<String> labels) {

  public static final String NAMESPACE = PodSecurityLabels.NAMESPACE;
  public static final String CLUSTER = PodSecurityLabels.CLUSTER;
  public static final String SERVICE_ACCOUNT = PodSecurityLabels.SERVICE_ACCOUNT;

  public LabelSet {
    labels = List.copyOf(new TreeSet<>(labels));
  }

  /** The label set of {@code pod} in {@code cluster}. */
  public static LabelSet of(Pod pod, String cluster) {
    return new LabelSet(
        PodSecurityLabels.of(
            pod.getMetadata().getLabels(),
            pod.getMetadata().getNamespace(),
            pod.getSpec() == null ? null : pod.getSpec().getServiceAccountName(),
            cluster));
  }

  @Override
  public String toString() {
    return String.join(",", labels);
  }
}
