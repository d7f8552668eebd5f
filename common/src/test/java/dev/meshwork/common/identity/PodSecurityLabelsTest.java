package dev.meshwork.common.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PodSecurityLabelsTest {

  @Test
  void isThePodLabelsWithNamespaceClusterAndServiceAccountSortedAsCiliumNamesThem() {
    assertThat(
            PodSecurityLabels.of(
                Map.of("role", "web-service", "app", "frontend"), "testing", "frontend-sa", "k8s-test-cluster"))
        .containsExactly(
            "k8s:app=frontend",
            "k8s:io.cilium.k8s.policy.cluster=k8s-test-cluster",
            "k8s:io.cilium.k8s.policy.serviceaccount=frontend-sa",
            "k8s:io.kubernetes.pod.namespace=testing",
            "k8s:role=web-service");
  }

  @Test
  void leavesOutLabelsThatControllersStampPerRolloutOrPerPod() {
    assertThat(
            PodSecurityLabels.of(
                Map.of("app", "db", "pod-template-hash", "7d9c5b8f4", "statefulset.kubernetes.io/pod-name", "db-0"),
                "ns", "sa", "c1"))
        .noneMatch(l -> l.contains("pod-template-hash") || l.contains("pod-name"))
        .contains("k8s:app=db");
  }

  @Test
  void aPodWithoutServiceAccountOrLabelsUsesDefault() {
    assertThat(PodSecurityLabels.of(null, "ns", null, "c1"))
        .containsExactly(
            "k8s:io.cilium.k8s.policy.cluster=c1",
            "k8s:io.cilium.k8s.policy.serviceaccount=default",
            "k8s:io.kubernetes.pod.namespace=ns");
    assertThat(PodSecurityLabels.of(Map.of(), "ns", "", "c1"))
        .contains("k8s:io.cilium.k8s.policy.serviceaccount=default");
  }
}
