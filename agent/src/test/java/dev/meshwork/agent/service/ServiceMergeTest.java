package dev.meshwork.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServiceMergeTest {
  static final String LOCAL = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";

  static BackendRecord ready(String ip) {
    return new BackendRecord(Ipv4.parse(ip), true, true, false, new int[] {8080});
  }

  static BackendRecord terminating(String ip) {
    return new BackendRecord(Ipv4.parse(ip), false, true, true, new int[] {8080});
  }

  static ClusterServiceRecord service(
      String cluster, boolean shared, Affinity affinity, BackendRecord... backends) {
    return new ClusterServiceRecord(
        cluster,
        "testing",
        "backend-svc",
        shared,
        affinity,
        0,
        List.of(new FrontendSpec(Ipv4.parse(cluster.equals(LOCAL) ? "172.20.17.66" : "172.21.3.9"), Service.Kind.CLUSTER_IP)),
        List.of(new ServicePortSpec("http", 80, Protocol.TCP, 0)),
        List.of(backends));
  }

  static List<String> backendIps(List<MergedFrontend> merged) {
    assertThat(merged).hasSize(1);
    return merged.get(0).backends().stream().map(b -> Ipv4.format(b.address().ip())).toList();
  }

  @Test
  void localServiceWithoutEndpointsGetsTheSharedClustersBackendsOnItsOwnClusterIp() {
    var local = service(LOCAL, true, Affinity.NONE);
    var remote = service(SHARED, true, Affinity.NONE, ready("10.2.1.17"), ready("10.2.2.9"));

    List<MergedFrontend> merged = ServiceMerge.merge(local, List.of(remote));

    assertThat(merged).singleElement().satisfies(f -> {
      assertThat(f.frontend()).isEqualTo(new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP));
      assertThat(f.kind()).isEqualTo(Service.Kind.CLUSTER_IP);
      assertThat(f.backends()).extracting(MergedBackend::cluster).containsOnly(SHARED);
      assertThat(f.backendAddresses())
          .containsExactly(
              new L4Address(Ipv4.parse("10.2.1.17"), 8080, Protocol.TCP),
              new L4Address(Ipv4.parse("10.2.2.9"), 8080, Protocol.TCP));
    });
  }

  @Test
  void affinityNoneUsesLocalAndRemoteBackends() {
    var merged = ServiceMerge.merge(
        service(LOCAL, true, Affinity.NONE, ready("10.1.0.5")),
        List.of(service(SHARED, true, Affinity.NONE, ready("10.2.0.5"))));
    assertThat(backendIps(merged)).containsExactly("10.1.0.5", "10.2.0.5");
  }

  @Test
  void affinityLocalUsesRemoteBackendsOnlyWhileNoLocalBackendIsReady() {
    var remote = service(SHARED, true, Affinity.NONE, ready("10.2.0.5"));
    assertThat(backendIps(ServiceMerge.merge(service(LOCAL, true, Affinity.LOCAL, ready("10.1.0.5")), List.of(remote))))
        .containsExactly("10.1.0.5");
    assertThat(backendIps(ServiceMerge.merge(service(LOCAL, true, Affinity.LOCAL, terminating("10.1.0.5")), List.of(remote))))
        .containsExactly("10.2.0.5");
  }

  @Test
  void affinityRemoteUsesLocalBackendsOnlyWhileNoRemoteBackendIsReady() {
    var local = service(LOCAL, true, Affinity.REMOTE, ready("10.1.0.5"));
    assertThat(backendIps(ServiceMerge.merge(local, List.of(service(SHARED, true, Affinity.NONE, ready("10.2.0.5"))))))
        .containsExactly("10.2.0.5");
    assertThat(backendIps(ServiceMerge.merge(local, List.of(service(SHARED, true, Affinity.NONE)))))
        .containsExactly("10.1.0.5");
  }

  @Test
  void remoteServiceThatIsNotSharedExportsNothing() {
    var merged = ServiceMerge.merge(
        service(LOCAL, true, Affinity.NONE, ready("10.1.0.5")),
        List.of(service(SHARED, false, Affinity.NONE, ready("10.2.0.5"))));
    assertThat(backendIps(merged)).containsExactly("10.1.0.5");
  }

  @Test
  void localServiceThatIsNotSharedStillImportsRemoteBackends() {
    var merged = ServiceMerge.merge(
        service(LOCAL, false, Affinity.NONE, ready("10.1.0.5")),
        List.of(service(SHARED, true, Affinity.NONE, ready("10.2.0.5"))));
    assertThat(backendIps(merged)).containsExactly("10.1.0.5", "10.2.0.5");
  }

  @Test
  void terminatingBackendsAreUsedOnlyWhenNoReadyBackendExistsAnywhere() {
    var withReadyRemote = ServiceMerge.merge(
        service(LOCAL, true, Affinity.NONE, terminating("10.1.0.5")),
        List.of(service(SHARED, true, Affinity.NONE, ready("10.2.0.5"))));
    assertThat(backendIps(withReadyRemote)).containsExactly("10.2.0.5");

    var onlyTerminating = ServiceMerge.merge(
        service(LOCAL, true, Affinity.NONE, terminating("10.1.0.5")),
        List.of(service(SHARED, true, Affinity.NONE, terminating("10.2.0.5"))));
    assertThat(onlyTerminating.get(0).backends()).allMatch(MergedBackend::terminating);
    assertThat(backendIps(onlyTerminating)).containsExactly("10.1.0.5", "10.2.0.5");
  }

  @Test
  void notReadyAndNotServingBackendsAreNeverUsed() {
    var notReady = new BackendRecord(Ipv4.parse("10.1.0.6"), false, false, false, new int[] {8080});
    var merged = ServiceMerge.merge(service(LOCAL, true, Affinity.NONE, notReady), List.of());
    assertThat(backendIps(merged)).isEmpty();
  }

  @Test
  void remotePortsAreMatchedByNameAndNodePortGetsItsOwnFrontend() {
    var local = new ClusterServiceRecord(LOCAL, "testing", "backend-svc", true, Affinity.NONE, 0,
        List.of(new FrontendSpec(Ipv4.parse("172.20.17.66"), Service.Kind.CLUSTER_IP)),
        List.of(new ServicePortSpec("http", 80, Protocol.TCP, 30080), new ServicePortSpec("dns", 53, Protocol.UDP, 0)),
        List.of());
    // The remote cluster lists its ports in another order and a backend serves only "dns".
    var remote = new ClusterServiceRecord(SHARED, "testing", "backend-svc", true, Affinity.NONE, 0, List.of(),
        List.of(new ServicePortSpec("dns", 53, Protocol.UDP, 0), new ServicePortSpec("http", 80, Protocol.TCP, 0)),
        List.of(new BackendRecord(Ipv4.parse("10.2.0.5"), true, true, false, new int[] {5353, 8080}),
            new BackendRecord(Ipv4.parse("10.2.0.6"), true, true, false, new int[] {5353, 0})));

    var merged = ServiceMerge.merge(local, List.of(remote));

    assertThat(merged).extracting(MergedFrontend::frontend).containsExactly(
        new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP),
        new L4Address(0, 30080, Protocol.TCP),
        new L4Address(Ipv4.parse("172.20.17.66"), 53, Protocol.UDP));
    assertThat(merged.get(0).backendAddresses()).containsExactly(new L4Address(Ipv4.parse("10.2.0.5"), 8080, Protocol.TCP));
    assertThat(merged.get(1).kind()).isEqualTo(Service.Kind.NODE_PORT);
    assertThat(merged.get(2).backendAddresses()).containsExactly(
        new L4Address(Ipv4.parse("10.2.0.5"), 5353, Protocol.UDP), new L4Address(Ipv4.parse("10.2.0.6"), 5353, Protocol.UDP));
  }

  @Test
  void servicesOfOtherNamesOrNamespacesAreNotMerged() {
    var other = new ClusterServiceRecord(SHARED, "default", "backend-svc", true, Affinity.NONE, 0, List.of(),
        List.of(new ServicePortSpec("http", 80, Protocol.TCP, 0)), List.of(ready("10.2.0.5")));
    assertThat(backendIps(ServiceMerge.merge(service(LOCAL, true, Affinity.NONE), List.of(other)))).isEmpty();
  }

  @Test
  void nonGlobalLocalServiceStaysLocalEvenWhenAnotherClusterExportsTheSameName() {
    var global = service(LOCAL, true, Affinity.NONE, ready("10.1.0.5"));
    var local = new ClusterServiceRecord(LOCAL, "testing", "backend-svc", false, true, Affinity.NONE, 0,
        global.frontends(), global.ports(), global.backends());
    var remote = service(SHARED, true, Affinity.NONE, ready("10.2.1.17"));

    List<MergedFrontend> merged = ServiceMerge.merge(local, List.of(remote));

    assertThat(backendIps(merged)).containsExactly("10.1.0.5");
    assertThat(merged.get(0).global()).isFalse();
    assertThat(merged.get(0).backends()).extracting(MergedBackend::cluster).containsOnly(LOCAL);
  }
}
