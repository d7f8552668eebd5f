package dev.meshwork.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PodBuilder;
import org.junit.jupiter.api.Test;

class LabelSetTest {

  @Test
  void isThePodLabelsWithNamespaceClusterAndServiceAccountAsCiliumNamesThem() {
    var pod = new PodBuilder()
        .withNewMetadata().withName("frontend-7d9c").withNamespace("testing")
        .addToLabels("app", "frontend").addToLabels("role", "web-service")
        .addToLabels("pod-template-hash", "7d9c5b8f4").endMetadata()
        .withNewSpec().withServiceAccountName("frontend-sa").endSpec()
        .build();

    assertThat(LabelSet.of(pod, "k8s-test-cluster").labels()).containsExactly(
        "k8s:app=frontend",
        "k8s:io.cilium.k8s.policy.cluster=k8s-test-cluster",
        "k8s:io.cilium.k8s.policy.serviceaccount=frontend-sa",
        "k8s:io.kubernetes.pod.namespace=testing",
        "k8s:role=web-service");
  }

  @Test
  void aPodWithoutServiceAccountUsesDefault() {
    var pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").endMetadata().build();
    assertThat(LabelSet.of(pod, "c1").labels())
        .contains("k8s:io.cilium.k8s.policy.serviceaccount=default");
  }
}
