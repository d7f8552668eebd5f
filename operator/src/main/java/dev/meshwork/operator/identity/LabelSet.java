package dev.meshwork.operator.identity;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The sorted security labels of a pod, each {@code k8s:<key>=<value>} (ARCHITECTURE.md,
 * identities): its pod labels, its namespace, its cluster and its service account. Pods with
 * equal label sets share one identity.
 */
public record LabelSet(List<String> labels) {

  public static final String NAMESPACE = "io.kubernetes.pod.namespace";
  public static final String CLUSTER = "io.cilium.k8s.policy.cluster";
  public static final String SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount";

  /**
   * Labels Kubernetes controllers stamp on pods that change on every rollout or differ per pod;
   * they carry no policy meaning and would give each rollout (or each pod) its own identity.
   * Cilium leaves out the same ones.
   */
  static final Set<String> IGNORED =
      Set.of(
          "pod-template-hash",
          "controller-revision-hash",
          "pod-template-generation",
          "statefulset.kubernetes.io/pod-name",
          "apps.kubernetes.io/pod-index",
          "batch.kubernetes.io/controller-uid",
          "controller-uid",
          "batch.kubernetes.io/job-completion-index");

  public LabelSet {
    labels = List.copyOf(new TreeSet<>(labels));
  }

  /** The label set of {@code pod} in {@code cluster}. */
  public static LabelSet of(Pod pod, String cluster) {
    TreeSet<String> labels = new TreeSet<>();
    Map<String, String> podLabels = pod.getMetadata().getLabels();
    if (podLabels != null) {
      podLabels.forEach(
          (key, value) -> {
            if (!IGNORED.contains(key)) {
              labels.add("k8s:" + key + "=" + value);
            }
          });
    }
    labels.add("k8s:" + NAMESPACE + "=" + pod.getMetadata().getNamespace());
    labels.add("k8s:" + CLUSTER + "=" + cluster);
    String serviceAccount =
        pod.getSpec() == null || pod.getSpec().getServiceAccountName() == null
            ? "default"
            : pod.getSpec().getServiceAccountName();
    labels.add("k8s:" + SERVICE_ACCOUNT + "=" + serviceAccount);
    return new LabelSet(List.copyOf(labels));
  }

  @Override
  public String toString() {
    return String.join(",", labels);
  }
}
