package dev.meshwork.agent.service.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.service.Affinity;
import dev.meshwork.agent.service.BackendRecord;
import dev.meshwork.agent.service.ClusterServiceRecord;
import dev.meshwork.agent.service.FrontendSpec;
import dev.meshwork.agent.service.ServicePortSpec;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service.Kind;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A local Service and its EndpointSlices, as the agent programs them. */
class ServiceTranslationTest {
  static final String CLUSTER = "k8s-test-cluster";

  static ServiceBuilder service(String name, String clusterIp) {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("testing").withName(name).endMetadata()
        .withNewSpec()
        .withClusterIP(clusterIp)
        .withSelector(java.util.Map.of("app", name))
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").withTargetPort(new IntOrString("web")).endPort()
        .endSpec();
  }

  /** A slice of {@code service} whose port "http" is the pod's 8080 (the resolved target port "web"). */
  static EndpointSliceBuilder slice(String service, String sliceName) {
    return new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("testing").withName(sliceName)
        .addToLabels("kubernetes.io/service-name", service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
  }

  static ClusterServiceRecord accepted(ServiceTranslation.Result result) {
    assertThat(result).isInstanceOf(ServiceTranslation.Accepted.class);
    return ((ServiceTranslation.Accepted) result).record();
  }

  static BackendRecord backend(String ip, boolean ready, boolean serving, boolean terminating) {
    return new BackendRecord(Ipv4.parse(ip), ready, serving, terminating, new int[] {8080});
  }

  @Test
  void plainClusterIpServiceIsLocalWithItsBackendsOnTheResolvedNamedTargetPort() {
    EndpointSlice slice = slice("web", "web-abc")
        .addNewEndpoint().withAddresses("10.1.0.5").endEndpoint() // nil conditions mean ready
        .addNewEndpoint().withAddresses("10.1.0.6").withNewConditions().withReady(false).withServing(true)
            .withTerminating(true).endConditions().endEndpoint()
        .build();

    ClusterServiceRecord record =
        accepted(ServiceTranslation.translate(CLUSTER, service("web", "172.20.0.10").build(), List.of(slice)));

    assertThat(record.global()).isFalse();
    assertThat(record.shared()).isTrue();
    assertThat(record.cluster()).isEqualTo(CLUSTER);
    assertThat(record.frontends()).containsExactly(new FrontendSpec(Ipv4.parse("172.20.0.10"), Kind.CLUSTER_IP));
    assertThat(record.ports()).containsExactly(new ServicePortSpec("http", 80, Protocol.TCP, 0));
    assertThat(record.backends())
        .containsExactly(backend("10.1.0.5", true, true, false), backend("10.1.0.6", false, true, true));
  }

  @Test
  void globalAnnotationsAreReadLikeTheOperatorReadsThem() {
    Service svc = service("backend-svc", "172.20.17.66").editMetadata()
        .addToAnnotations("service.cilium.io/global", "true")
        .addToAnnotations("service.cilium.io/shared", "false")
        .addToAnnotations("service.cilium.io/affinity", "local").endMetadata().build();

    ClusterServiceRecord record = accepted(ServiceTranslation.translate(CLUSTER, svc, List.of()));

    assertThat(record.global()).isTrue();
    assertThat(record.shared()).isFalse();
    assertThat(record.affinity()).isEqualTo(Affinity.LOCAL);
    assertThat(record.backends()).isEmpty();
  }

  @Test
  void malformedAnnotationIsReportedAndTheServiceStaysLocal() {
    Service svc = service("backend-svc", "172.20.17.66").editMetadata()
        .addToAnnotations("service.cilium.io/global", "yes").endMetadata().build();

    var result = (ServiceTranslation.Accepted) ServiceTranslation.translate(CLUSTER, svc, List.of());

    assertThat(result.record().global()).isFalse();
    assertThat(result.warnings()).singleElement().asString()
        .contains("service.cilium.io/global=\"yes\"", "\"true\" or \"false\"");
  }

  @Test
  void nodePortExternalAndLoadBalancerAddressesAreFrontendsToo() {
    Service svc = service("web", "172.20.0.10").editSpec().withType("LoadBalancer").withExternalIPs("198.18.5.1")
        .editFirstPort().withNodePort(30080).endPort().endSpec()
        .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.18.6.1").endIngress().endLoadBalancer()
        .endStatus().build();

    ClusterServiceRecord record = accepted(ServiceTranslation.translate(CLUSTER, svc, List.of()));

    assertThat(record.frontends()).containsExactly(
        new FrontendSpec(Ipv4.parse("172.20.0.10"), Kind.CLUSTER_IP),
        new FrontendSpec(Ipv4.parse("198.18.5.1"), Kind.EXTERNAL_IP),
        new FrontendSpec(Ipv4.parse("198.18.6.1"), Kind.LOAD_BALANCER));
    assertThat(record.ports()).containsExactly(new ServicePortSpec("http", 80, Protocol.TCP, 30080));
  }

  @Test
  void serviceWithoutSelectorTakesTheSlicesLabelledWithItsName() {
    Service svc = service("external-db", "172.20.0.20").editSpec().withSelector(null).endSpec().build();
    EndpointSlice manual = slice("external-db", "external-db-1").addNewEndpoint().withAddresses("10.9.0.1").endEndpoint().build();

    ClusterServiceRecord record = accepted(ServiceTranslation.translate(CLUSTER, svc, List.of(manual)));

    assertThat(record.backends()).containsExactly(backend("10.9.0.1", true, true, false));
  }

  @Test
  void headlessAndExternalNameServicesAreNotProgrammed() {
    assertThat(ServiceTranslation.translate(CLUSTER, service("db", "None").build(), List.of()))
        .isInstanceOf(ServiceTranslation.Skipped.class);
    Service external = service("mail", null).editSpec().withType("ExternalName").withExternalName("mail.example.org")
        .endSpec().build();
    assertThat(ServiceTranslation.translate(CLUSTER, external, List.of())).isInstanceOf(ServiceTranslation.Skipped.class);
  }

  @Test
  void unusableAddressRejectsTheServiceNamingTheField() {
    Service svc = service("web", "172.20.0.10").editSpec().withExternalIPs("not-an-ip").endSpec().build();

    assertThat(ServiceTranslation.translate(CLUSTER, svc, List.of()))
        .isEqualTo(new ServiceTranslation.Rejected("spec.externalIPs 'not-an-ip' is not an IPv4 address"));
  }

  @Test
  void slicePortsOfAnotherNameOrProtocolGiveNoTargetForThatServicePort() {
    EndpointSlice udp = new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("testing").withName("web-udp")
        .addToLabels("kubernetes.io/service-name", "web").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("UDP").endPort()
        .addNewEndpoint().withAddresses("10.1.0.7").endEndpoint().build();

    ClusterServiceRecord record =
        accepted(ServiceTranslation.translate(CLUSTER, service("web", "172.20.0.10").build(), List.of(udp)));

    assertThat(record.backends()).singleElement().satisfies(b -> assertThat(b.targetPort(0)).isZero());
  }
}
