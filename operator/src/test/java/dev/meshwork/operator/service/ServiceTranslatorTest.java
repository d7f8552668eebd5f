package dev.meshwork.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.common.service.GlobalServiceAnnotations;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.FrontendType;
import dev.meshwork.proto.v1.Protocol;
import dev.meshwork.proto.v1.ServiceType;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceTranslatorTest {

  private static final LocalCluster CLUSTER = new LocalCluster("k8s-shared-cluster", 2);
  private static final GlobalServiceAnnotations GLOBAL =
      GlobalServiceAnnotations.parse(Map.of("service.cilium.io/global", "true"));

  @Test
  void carriesFrontendsPortsTypeAndSessionAffinity() {
    var service = new ServiceBuilder()
        .withNewMetadata().withName("web").withNamespace("shop").endMetadata()
        .withNewSpec().withType("LoadBalancer").withClusterIP("10.100.0.10").withClusterIPs("10.100.0.10")
        .withExternalIPs("198.18.9.9").withSessionAffinity("ClientIP")
        .addNewPort().withName("http").withPort(80).withProtocol("TCP").withNodePort(30080).endPort()
        .addNewPort().withName("dns").withPort(53).withProtocol("UDP").endPort()
        .endSpec()
        .withNewStatus().withNewLoadBalancer().addNewIngress().withIp("198.18.9.10").endIngress().endLoadBalancer().endStatus()
        .build();

    ClusterService translated = ServiceTranslator.translate(CLUSTER, service, GLOBAL, List.of());

    assertThat(translated.getType()).isEqualTo(ServiceType.SERVICE_TYPE_LOAD_BALANCER);
    assertThat(translated.getFrontendsList()).extracting(f -> f.getIp() + " " + f.getType())
        .containsExactly(
            "10.100.0.10 " + FrontendType.FRONTEND_TYPE_CLUSTER_IP,
            "198.18.9.9 " + FrontendType.FRONTEND_TYPE_EXTERNAL_IP,
            "198.18.9.10 " + FrontendType.FRONTEND_TYPE_LOAD_BALANCER);
    assertThat(translated.getPortsList()).extracting(p -> p.getName() + "/" + p.getPort() + "/" + p.getProtocol() + "/" + p.getNodePort())
        .containsExactly("http/80/" + Protocol.PROTOCOL_TCP + "/30080", "dns/53/" + Protocol.PROTOCOL_UDP + "/0");
    assertThat(translated.getSessionAffinityTimeoutSeconds()).isEqualTo(10800);
  }

  @Test
  void readsEndpointConditionsAsTheEndpointSliceApiDefinesThem() {
    EndpointSlice slice = new EndpointSliceBuilder()
        .withNewMetadata().withName("web-a").withNamespace("shop").endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
        .addNewPort().withName("metrics").withPort(9090).withProtocol("TCP").endPort()
        .withEndpoints(
            // No conditions at all: unknown means ready.
            new EndpointBuilder().withAddresses("10.2.0.1").build(),
            // Terminating but still serving (graceful shutdown).
            new EndpointBuilder().withAddresses("10.2.0.2")
                .withNewConditions().withReady(false).withServing(true).withTerminating(true).endConditions().build(),
            new EndpointBuilder().withAddresses("10.2.0.3")
                .withNewConditions().withReady(false).endConditions().build())
        .build();

    List<Backend> backends = List.copyOf(ServiceTranslator.backends(List.of(slice)));

    assertThat(backends).extracting(Backend::getIp).containsExactly("10.2.0.1", "10.2.0.2", "10.2.0.3");
    assertThat(backends.get(0).getReady()).isTrue();
    assertThat(backends.get(0).getServing()).isTrue();
    assertThat(backends.get(1).getReady()).isFalse();
    assertThat(backends.get(1).getServing()).isTrue();
    assertThat(backends.get(1).getTerminating()).isTrue();
    assertThat(backends.get(2).getServing()).as("serving unset follows ready").isFalse();
    assertThat(backends.get(0).getPortsMap()).containsOnlyKeys("http", "metrics");
    assertThat(backends.get(0).getPortsMap().get("metrics").getPort()).isEqualTo(9090);
  }

  @Test
  void ignoresIpv6SlicesAndMergesAnAddressFoundInTwoSlices() {
    EndpointSlice v6 = new EndpointSliceBuilder()
        .withNewMetadata().withName("web-v6").endMetadata().withAddressType("IPv6")
        .withEndpoints(new EndpointBuilder().withAddresses("fd00::1").build()).build();
    EndpointSlice a = new EndpointSliceBuilder()
        .withNewMetadata().withName("web-a").endMetadata().withAddressType("IPv4")
        .withEndpoints(new EndpointBuilder().withAddresses("10.2.0.1").withNodeName("node-1").build()).build();
    EndpointSlice b = new EndpointSliceBuilder()
        .withNewMetadata().withName("web-b").endMetadata().withAddressType("IPv4")
        .withEndpoints(new EndpointBuilder().withAddresses("10.2.0.1").withNodeName("node-1").build()).build();

    assertThat(ServiceTranslator.backends(List.of(v6, a, b))).extracting(Backend::getIp).containsExactly("10.2.0.1");
  }
}
