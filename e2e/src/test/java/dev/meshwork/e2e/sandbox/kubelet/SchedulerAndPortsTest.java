package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SchedulerAndPortsTest {

  static Pod pod(String name, String node) {
    return new PodBuilder().withNewMetadata().withNamespace("testing").withName(name).addToLabels("app", "backend").endMetadata()
        .withNewSpec().withNodeName(node).endSpec().build();
  }

  @Test
  void spreadsABurstOfPodsBeforeTheCacheShowsAnyBinding() {
    Scheduler scheduler = new Scheduler(List.of("node-a", "node-b"));
    List<Pod> cache = List.of(pod("p1", null), pod("p2", null), pod("p3", null), pod("p4", null));

    List<String> picked = cache.stream().map(p -> scheduler.pick(Pods.key(p), cache)).toList();

    assertThat(picked).containsExactly("node-a", "node-b", "node-a", "node-b");
    assertThat(scheduler.pick("testing/p1", cache)).as("a retried bind keeps its node").isEqualTo("node-a");
  }

  @Test
  void countsBoundPodsButNotFinishedOnes() {
    Scheduler scheduler = new Scheduler(List.of("node-a", "node-b"));
    Pod finished = new PodBuilder(pod("old", "node-b")).withNewStatus().withPhase("Succeeded").endStatus().build();
    List<Pod> cache = List.of(pod("a1", "node-a"), pod("a2", "node-a"), pod("b1", "node-b"), finished, pod("new", null));

    assertThat(scheduler.pick("testing/new", cache)).isEqualTo("node-b");
  }

  static Service service(String name, Map<String, String> selector, IntOrString target, String protocol) {
    return new ServiceBuilder().withNewMetadata().withNamespace("testing").withName(name).endMetadata()
        .withNewSpec().withSelector(selector)
        .addNewPort().withPort(80).withTargetPort(target).withProtocol(protocol).endPort()
        .endSpec().build();
  }

  @Test
  void servesTheTcpTargetPortsOfTheServicesSelectingAPodWithoutDeclaredPorts() {
    Pod pod = pod("b", "node-a");
    List<Service> services = List.of(
        service("backend-svc", Map.of("app", "backend"), new IntOrString(3000), "TCP"),
        service("no-target", Map.of("app", "backend"), null, null),
        service("named", Map.of("app", "backend"), new IntOrString("http"), "TCP"),
        service("dns", Map.of("app", "backend"), new IntOrString(53), "UDP"),
        service("frontend-svc", Map.of("app", "frontend"), new IntOrString(4000), "TCP"));

    assertThat(PodPorts.of(pod, services)).containsExactly(80, 3000);
  }

  @Test
  void servesOnlyTheDeclaredTcpContainerPortsWhenThereAreAny() {
    Pod pod = new PodBuilder(pod("b", "node-a")).editSpec()
        .addNewContainer().withName("web").withPorts(
            new ContainerPortBuilder().withContainerPort(8080).build(),
            new ContainerPortBuilder().withContainerPort(5353).withProtocol("UDP").build()).endContainer()
        .endSpec().build();

    assertThat(PodPorts.of(pod, List.of(service("backend-svc", Map.of("app", "backend"), new IntOrString(3000), "TCP"))))
        .containsExactly(8080);
  }
}
