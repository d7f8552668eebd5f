package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class NameFilesTest {

  static Service service(String namespace, String name, String clusterIp) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace(namespace).withName(name).endMetadata()
        .withNewSpec().withClusterIP(clusterIp).endSpec()
        .build();
  }

  @Test
  void listsEveryServiceWithAClusterIpUnderItsDnsNamesAndTheShortNameForThePodsNamespace() {
    String hosts = NameFiles.hosts("k8s-test-cluster", "testing", "frontend-abc", "10.1.0.97", List.of(
        service("testing", "backend-svc", "10.100.3.165"),
        service("kube-system", "kube-dns", "10.100.0.10"),
        service("testing", "headless", "None"),
        service("testing", "pending", null)));

    assertThat(hosts).isEqualTo("""
        # Written by the meshwork sandbox kubelet shim for pod testing/frontend-abc of cluster k8s-test-cluster.
        127.0.0.1\tlocalhost
        ::1\tlocalhost ip6-localhost ip6-loopback
        10.1.0.97\tfrontend-abc
        10.100.0.10\tkube-dns.kube-system.svc.cluster.local kube-dns.kube-system.svc kube-dns.kube-system
        10.100.3.165\tbackend-svc.testing.svc.cluster.local backend-svc.testing.svc backend-svc.testing backend-svc
        """);
  }

  @Test
  void resolvConfSearchesThePodsNamespaceFirstAndNeverPointsOutsideThePod() {
    assertThat(NameFiles.resolvConf("testing"))
        .contains("search testing.svc.cluster.local svc.cluster.local cluster.local\n")
        .contains("nameserver 127.0.0.1\n")
        .contains("options ndots:5\n");
  }
}
