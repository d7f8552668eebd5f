package dev.meshwork.operator.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.OperatorFixture;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Protocol;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The blog's global service {@code testing/backend-svc}, exported by the shared cluster. */
class GlobalServiceIT {

  private static final Duration WAIT = Duration.ofSeconds(15);

  @RegisterExtension final OperatorFixture cluster = OperatorFixture.perTest();

  @Test
  void backendSvcShowsUpWithBothBackends() {
    createService("backend-svc", "10.100.3.165", Map.of("io.cilium/global-service", "true"));
    createSlice("backend-svc", true, true);
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() -> {
      ClusterService service = cluster.<ClusterService>state(Kind.SERVICES, "testing/backend-svc").orElseThrow();
      assertThat(service.getCluster()).isEqualTo(OperatorFixture.CLUSTER);
      assertThat(service.getClusterId()).isEqualTo(OperatorFixture.CLUSTER_ID);
      assertThat(service.getFrontendsList()).extracting(f -> f.getIp()).containsExactly("10.100.3.165");
      assertThat(service.getPortsList()).singleElement().satisfies(p -> {
        assertThat(p.getPort()).isEqualTo(80);
        assertThat(p.getProtocol()).isEqualTo(Protocol.PROTOCOL_TCP);
      });
      assertThat(service.getShared()).isTrue();
      assertThat(service.getAffinity()).isEqualTo(Affinity.AFFINITY_NONE);
      assertThat(service.getBackendsList()).extracting(Backend::getIp)
          .containsExactly("10.2.0.229", "10.2.1.214");
      assertThat(service.getBackendsList()).allSatisfy(b -> {
        assertThat(b.getReady()).isTrue();
        assertThat(b.getServing()).isTrue();
        assertThat(b.getTerminating()).isFalse();
        assertThat(b.getPortsMap()).containsKey("");
        assertThat(b.getPortsMap().get("").getPort()).isEqualTo(3000);
        assertThat(b.getZone()).isEqualTo("us-west-2a");
      });
      assertThat(service.getBackendsList()).extracting(Backend::getNodeName)
          .containsExactly("node-2", "node-1");
    });
    await().atMost(WAIT).until(() ->
        cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.SERVICES)).isPresent());
  }

  @Test
  void aPodBecomingUnreadyFlipsItsBackend() {
    createService("backend-svc", "10.100.3.165", Map.of("io.cilium/global-service", "true"));
    createSlice("backend-svc", true, true);
    cluster.startOperator(cluster.config());
    await().atMost(WAIT).until(() -> cluster.state(Kind.SERVICES, "testing/backend-svc").isPresent());

    // What the EndpointSlice controller does when the pod 10.2.1.214 fails its readiness probe.
    createSlice("backend-svc", false, true);

    await().atMost(WAIT).untilAsserted(() -> {
      ClusterService service = cluster.<ClusterService>state(Kind.SERVICES, "testing/backend-svc").orElseThrow();
      assertThat(service.getBackendsList()).filteredOn(b -> b.getIp().equals("10.2.1.214"))
          .singleElement().satisfies(b -> {
            assertThat(b.getReady()).isFalse();
            assertThat(b.getServing()).isFalse();
          });
      assertThat(service.getBackendsList()).filteredOn(b -> b.getIp().equals("10.2.0.229"))
          .singleElement().satisfies(b -> assertThat(b.getReady()).isTrue());
    });
  }

  @Test
  void aNonGlobalServiceNeverAppears() {
    createService("frontend-svc", "10.100.7.7", Map.of());
    createSlice("frontend-svc", true, true);
    createService("backend-svc", "10.100.3.165", Map.of("service.cilium.io/global", "true"));
    cluster.startOperator(cluster.config());

    // Once the canary is written every service has been looked at.
    await().atMost(WAIT).until(() ->
        cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.SERVICES)).isPresent());
    assertThat(cluster.states(Kind.SERVICES)).containsOnlyKeys("testing/backend-svc");
  }

  @Test
  void aServiceThatStopsBeingGlobalIsRemoved() {
    createService("backend-svc", "10.100.3.165", Map.of("meshwork.dev/global", "true"));
    cluster.startOperator(cluster.config());
    await().atMost(WAIT).until(() -> cluster.state(Kind.SERVICES, "testing/backend-svc").isPresent());

    cluster.kubernetes().services().inNamespace("testing").withName("backend-svc")
        .edit(s -> new ServiceBuilder(s).editMetadata().removeFromAnnotations("meshwork.dev/global").endMetadata().build());

    await().atMost(WAIT).until(() -> cluster.state(Kind.SERVICES, "testing/backend-svc").isEmpty());
  }

  @Test
  void carriesSharedAndAffinityFromCiliumAnnotationsAndTheirMeshworkTwins() {
    createService("backend-svc", "10.100.3.165", Map.of(
        "service.cilium.io/global", "true",
        "service.cilium.io/shared", "false",
        "service.cilium.io/affinity", "local"));
    createService("other-svc", "10.100.3.166", Map.of(
        "meshwork.dev/global", "true",
        "meshwork.dev/affinity", "remote"));
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() -> {
      ClusterService backend = cluster.<ClusterService>state(Kind.SERVICES, "testing/backend-svc").orElseThrow();
      assertThat(backend.getShared()).isFalse();
      assertThat(backend.getAffinity()).isEqualTo(Affinity.AFFINITY_LOCAL);
      ClusterService other = cluster.<ClusterService>state(Kind.SERVICES, "testing/other-svc").orElseThrow();
      assertThat(other.getShared()).isTrue();
      assertThat(other.getAffinity()).isEqualTo(Affinity.AFFINITY_REMOTE);
    });
  }

  @Test
  void anInvalidAnnotationGivesAWarningEventAndTheDocumentedDefault() {
    createService("backend-svc", "10.100.3.165", Map.of(
        "io.cilium/global-service", "true",
        "service.cilium.io/affinity", "nearest",
        "service.cilium.io/shared", "maybe"));
    createService("typo-svc", "10.100.3.167", Map.of("service.cilium.io/global", "yes"));
    createService("good-svc", "10.100.3.168", Map.of("service.cilium.io/global", "true"));
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() -> {
      ClusterService backend = cluster.<ClusterService>state(Kind.SERVICES, "testing/backend-svc").orElseThrow();
      assertThat(backend.getAffinity()).isEqualTo(Affinity.AFFINITY_NONE);
      assertThat(backend.getShared()).isTrue();
      assertThat(cluster.state(Kind.SERVICES, "testing/good-svc")).isPresent();
      var warnings = cluster.kubernetes().v1().events().inNamespace("testing").list().getItems().stream()
          .filter(e -> "Warning".equals(e.getType()) && "InvalidAnnotation".equals(e.getReason()))
          .toList();
      assertThat(warnings).anySatisfy(e -> {
        assertThat(e.getInvolvedObject().getName()).isEqualTo("backend-svc");
        assertThat(e.getMessage()).contains("service.cilium.io/affinity", "nearest", "using none");
      });
      assertThat(warnings).anySatisfy(e -> {
        assertThat(e.getInvolvedObject().getName()).isEqualTo("backend-svc");
        assertThat(e.getMessage()).contains("service.cilium.io/shared", "maybe");
      });
      assertThat(warnings).anySatisfy(e -> {
        assertThat(e.getInvolvedObject().getName()).isEqualTo("typo-svc");
        assertThat(e.getMessage()).contains("testing/typo-svc", "service.cilium.io/global", "\"yes\"");
      });
    });
    // "yes" is not "true": the documented default is "not global".
    assertThat(cluster.state(Kind.SERVICES, "testing/typo-svc")).isEmpty();
  }

  private void createService(String name, String clusterIp, Map<String, String> annotations) {
    Service service =
        new ServiceBuilder()
            .withNewMetadata().withName(name).withNamespace("testing").withAnnotations(annotations).endMetadata()
            .withNewSpec()
            .withType("ClusterIP")
            .withSessionAffinity("None")
            .withClusterIP(clusterIp)
            .withClusterIPs(clusterIp)
            .addNewPort().withPort(80).withProtocol("TCP").withNewTargetPort(3000).endPort()
            .withSelector(Map.of("app", "backend", "role", "database-service"))
            .endSpec()
            .build();
    cluster.kubernetes().services().inNamespace("testing").resource(service).create();
  }

  /** The EndpointSlice of the two backend pods, as the EndpointSlice controller writes it. */
  private void createSlice(String service, boolean firstReady, boolean secondReady) {
    EndpointSlice slice =
        new EndpointSliceBuilder()
            .withNewMetadata()
            .withName(service + "-x7k2p")
            .withNamespace("testing")
            .addToLabels("kubernetes.io/service-name", service)
            .endMetadata()
            .withAddressType("IPv4")
            .addNewPort().withName("").withPort(3000).withProtocol("TCP").endPort()
            .withEndpoints(
                new EndpointBuilder()
                    .withAddresses("10.2.1.214")
                    .withNewConditions().withReady(firstReady).withServing(firstReady).withTerminating(false).endConditions()
                    .withNodeName("node-1").withZone("us-west-2a")
                    .build(),
                new EndpointBuilder()
                    .withAddresses("10.2.0.229")
                    .withNewConditions().withReady(secondReady).withServing(secondReady).withTerminating(false).endConditions()
                    .withNodeName("node-2").withZone("us-west-2a")
                    .build())
            .build();
    cluster.kubernetes().discovery().v1().endpointSlices().inNamespace("testing").resource(slice).createOr(r -> r.update());
  }
}
