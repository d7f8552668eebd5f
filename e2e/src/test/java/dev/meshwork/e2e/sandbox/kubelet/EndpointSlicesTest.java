package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EndpointSlicesTest {

  static Service service() {
    return new ServiceBuilder()
        .withNewMetadata().withNamespace("testing").withName("web").withUid("svc-uid").endMetadata()
        .withNewSpec()
        .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString("http")).endPort()
        .addNewPort().withName("metrics").withPort(9090).endPort()
        .withSelector(Map.of("app", "web"))
        .endSpec()
        .build();
  }

  static Pod pod(String name, String ip, int httpPort, boolean ready) {
    return new PodBuilder()
        .withNewMetadata().withNamespace("testing").withName(name).withUid(name + "-uid").addToLabels("app", "web").endMetadata()
        .withNewSpec().withNodeName("node-a")
        .addNewContainer().withName("web").withPorts(new ContainerPortBuilder().withName("http").withContainerPort(httpPort).build()).endContainer()
        .endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip)
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition()
        .endStatus()
        .build();
  }

  @Test
  void putsPodsWhoseNamedPortResolvesDifferentlyIntoDifferentSlices() {
    List<EndpointSlice> slices = EndpointSlices.desired(service(), List.of(
        pod("a", "10.1.0.5", 8080, true),
        pod("b", "10.1.0.6", 8080, false),
        pod("c", "10.1.0.7", 8081, true)), node -> null);

    assertThat(slices).hasSize(2);
    EndpointSlice on8080 = slices.stream().filter(s -> s.getPorts().stream().anyMatch(p -> p.getPort() == 8080)).findFirst().orElseThrow();
    assertThat(on8080.getPorts()).extracting(p -> p.getName() + ":" + p.getPort()).containsExactly("http:8080", "metrics:9090");
    assertThat(on8080.getEndpoints()).extracting(e -> e.getAddresses().getFirst() + " ready=" + e.getConditions().getReady())
        .containsExactly("10.1.0.5 ready=true", "10.1.0.6 ready=false");
    assertThat(slices).extracting(s -> s.getMetadata().getName()).doesNotHaveDuplicates().allMatch(n -> n.startsWith("web-"));
  }

  @Test
  void skipsPodsOfOtherLabelsWithoutIpOrFinished() {
    Pod other = new PodBuilder(pod("x", "10.1.0.8", 8080, true)).editMetadata().withLabels(Map.of("app", "db")).endMetadata().build();
    Pod noIp = new PodBuilder(pod("y", null, 8080, true)).build();
    Pod done = new PodBuilder(pod("z", "10.1.0.9", 8080, true)).editStatus().withPhase("Succeeded").endStatus().build();

    List<EndpointSlice> slices = EndpointSlices.desired(service(), List.of(other, noIp, done), node -> null);

    assertThat(slices).singleElement().satisfies(s -> {
      assertThat(s.getEndpoints()).isEmpty();
      assertThat(s.getPorts()).as("without a pod only numeric targets resolve").extracting(p -> p.getName() + ":" + p.getPort())
          .containsExactly("metrics:9090");
    });
  }

  @Test
  void marksATerminatingPodNotReadyButServing() {
    Pod leaving = new PodBuilder(pod("a", "10.1.0.5", 8080, true)).editMetadata().withDeletionTimestamp("2026-11-25T17:00:00Z").endMetadata().build();

    var endpoint = EndpointSlices.desired(service(), List.of(leaving), node -> null).getFirst().getEndpoints().getFirst();

    assertThat(endpoint.getConditions().getReady()).isFalse();
    assertThat(endpoint.getConditions().getServing()).isTrue();
    assertThat(endpoint.getConditions().getTerminating()).isTrue();
  }

  @Test
  void ignoresFieldsItDoesNotSetWhenComparing() {
    EndpointSlice desired = EndpointSlices.desired(service(), List.of(pod("a", "10.1.0.5", 8080, true)), node -> null).getFirst();
    EndpointSlice fromServer = new io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder(desired)
        .editMetadata().withResourceVersion("42").withCreationTimestamp("2026-11-25T17:00:00Z").withGeneration(3L).endMetadata()
        .build();

    assertThat(EndpointSlices.projection(fromServer)).isEqualTo(EndpointSlices.projection(desired));
  }
}
