package dev.meshwork.common.identity;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The security label set of a pod (ARCHITECTURE.md, identities): each pod label as {@code
 * k8s:<key>=<value>}, plus its namespace, its cluster and its service account under Cilium's
 * names, sorted. Pods with equal label sets share one identity. The operator derives the set to
 * allocate identities, the agent to find the identity of a pod it sets up: both call this, so
 * they always agree.
 */
public final class PodSecurityLabels {
  public static final String NAMESPACE = "io.kubernetes.pod.namespace";
  public static final String CLUSTER = "io.cilium.k8s.policy.cluster";
  public static final String SERVICE_ACCOUNT = "io.cilium.k8s.policy.serviceaccount";
  /** The service account of a pod whose spec names none. */
  public static final String DEFAULT_SERVICE_ACCOUNT = "default";

  /**
   * Labels Kubernetes controllers stamp on pods that change on every rollout or differ per pod;
   * they carry no policy meaning and would give each rollout (or each pod) its own identity.
   * Cilium leaves out the same ones.
   */
  public static final Set<String> IGNORED =
      Set.of(
          "pod-template-hash",
          "controller-revision-hash",
          "pod-template-generation",
          "statefulset.kubernetes.io/pod-name",
          "apps.kubernetes.io/pod-index",
          "batch.kubernetes.io/controller-uid",
          "controller-uid",
          "batch.kubernetes.io/job-completion-index");

  private PodSecurityLabels() {}

  /**
   * The sorted label set of a pod.
   *
   * @param podLabels the pod's {@code metadata.labels}; null for none
   * @param namespace the pod's namespace
   * @param serviceAccount {@code spec.serviceAccountName}; null or empty for {@code default}
   * @param cluster the name of the pod's cluster
   */
  public static List<String> of(
      Map<String, String> podLabels, String namespace, String serviceAccount, String cluster) {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(cluster, "cluster");
    TreeSet<String> labels = new TreeSet<>();
    if (podLabels != null) {
      podLabels.forEach(
          (key, value) -> {
            if (!IGNORED.contains(key)) {
              labels.add("k8s:" + key + "=" + value);
            }
          });
    }
    labels.add("k8s:" + NAMESPACE + "=" + namespace);
    labels.add("k8s:" + CLUSTER + "=" + cluster);
    labels.add(
        "k8s:" + SERVICE_ACCOUNT + "="
            + (serviceAccount == null || serviceAccount.isEmpty() ? DEFAULT_SERVICE_ACCOUNT : serviceAccount));
    return List.copyOf(labels);
  }
}
