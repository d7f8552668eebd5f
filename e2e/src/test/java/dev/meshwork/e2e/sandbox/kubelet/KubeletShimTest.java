package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.datapath.IpPrefix;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim's controllers against fabric8's mock API server in CRUD mode, with {@link
 * FakePodRuntime} in place of network namespaces, CNI and processes. The objects are the blog's
 * (a global {@code backend-svc} and a {@code backend} Deployment fragment without containers).
 */
class KubeletShimTest {

  static final String NS = "testing";

  @RegisterExtension final MockApi api = new MockApi();
  KubernetesClient client;
  @TempDir Path runDir;
  final FakePodRuntime runtime = new FakePodRuntime();
  KubeletShim shim;

  @BeforeEach
  void apiClient() {
    client = api.client();
  }

  @AfterEach
  void closeShim() {
    if (shim != null) {
      shim.close();
    }
  }

  KubeletShim.Settings settings(String... nodes) {
    return new KubeletShim.Settings(
        "k8s-shared-cluster",
        IpPrefix.parse("10.100.0.0/16"),
        java.util.Arrays.stream(nodes).map(n -> new KubeletShim.NodeSpec(n, Path.of("/etc/cni/net.d/" + n + ".conflist"))).toList(),
        Path.of("/opt/cni/bin/meshwork-cni"),
        runDir,
        "mwt-klt-u-");
  }

  KubeletShim start(String... nodes) {
    shim = new KubeletShim(client, settings(nodes), runtime);
    shim.start();
    return shim;
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).ignoreExceptions();
  }

  static Service backendSvc() {
    return new ServiceBuilder()
        .withNewMetadata().withName("backend-svc").withNamespace(NS)
        .addToAnnotations("io.cilium/global-service", "true").endMetadata()
        .withNewSpec()
        .withSessionAffinity("None")
        .withType("ClusterIP")
        .addNewPort().withPort(80).withProtocol("TCP").withTargetPort(new IntOrString(3000)).endPort()
        .withSelector(Map.of("app", "backend", "role", "database-service"))
        .endSpec()
        .build();
  }

  /** The blog's fragment: no containers at all. */
  static Deployment backendDeployment(int replicas) {
    return new DeploymentBuilder()
        .withNewMetadata().withName("backend").withNamespace(NS).endMetadata()
        .withNewSpec()
        .withReplicas(replicas)
        .withNewSelector().addToMatchLabels("app", "backend").addToMatchLabels("role", "database-service").endSelector()
        .withNewTemplate()
        .withNewMetadata().addToLabels("app", "backend").addToLabels("role", "database-service").endMetadata()
        .endTemplate()
        .endSpec()
        .build();
  }

  List<Pod> pods() {
    return client.pods().inNamespace(NS).list().getItems();
  }

  List<Pod> runningReadyPods() {
    return pods().stream()
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()) && Pods.isReady(p))
        .toList();
  }

  String clusterIp(String name) {
    return client.services().inNamespace(NS).withName(name).get().getSpec().getClusterIP();
  }

  // ---- ClusterIPs

  @Test
  void assignsClusterIpsFromTheServiceCidrSkippingTheNetworkAndFirstAddressAndTakenOnes() {
    client.services().inNamespace(NS).resource(
        new ServiceBuilder(backendSvc()).editMetadata().withName("pinned").endMetadata()
            .editSpec().withClusterIP("10.100.0.2").endSpec().build()).create();
    start("node-a");
    client.services().inNamespace(NS).resource(backendSvc()).create();
    client.services().inNamespace(NS).resource(
        new ServiceBuilder(backendSvc()).editMetadata().withName("frontend-svc").endMetadata().build()).create();

    eventually().untilAsserted(() -> {
      assertThat(clusterIp("backend-svc")).isNotNull();
      assertThat(clusterIp("frontend-svc")).isNotNull();
    });
    assertThat(List.of(clusterIp("backend-svc"), clusterIp("frontend-svc")))
        .containsExactlyInAnyOrder("10.100.0.3", "10.100.0.4");
    assertThat(client.services().inNamespace(NS).withName("backend-svc").get().getSpec().getClusterIPs())
        .containsExactly(clusterIp("backend-svc"));
    assertThat(clusterIp("pinned")).isEqualTo("10.100.0.2");
  }

  @Test
  void leavesHeadlessAndExternalNameServicesWithoutClusterIp() {
    start("node-a");
    client.services().inNamespace(NS).resource(
        new ServiceBuilder(backendSvc()).editMetadata().withName("headless").endMetadata()
            .editSpec().withClusterIP("None").endSpec().build()).create();
    client.services().inNamespace(NS).resource(
        new ServiceBuilder().withNewMetadata().withName("external").withNamespace(NS).endMetadata()
            .withNewSpec().withType("ExternalName").withExternalName("db.example.org").endSpec().build()).create();
    client.services().inNamespace(NS).resource(backendSvc()).create();

    eventually().untilAsserted(() -> assertThat(clusterIp("backend-svc")).isEqualTo("10.100.0.2"));
    assertThat(clusterIp("headless")).isEqualTo("None");
    assertThat(clusterIp("external")).isNull();
  }

  @Test
  void neverHandsOutAClusterIpTwiceAcrossARestart() {
    start("node-a");
    client.services().inNamespace(NS).resource(backendSvc()).create();
    eventually().untilAsserted(() -> assertThat(clusterIp("backend-svc")).isEqualTo("10.100.0.2"));
    shim.close();

    start("node-a");
    client.services().inNamespace(NS).resource(
        new ServiceBuilder(backendSvc()).editMetadata().withName("frontend-svc").endMetadata().build()).create();
    eventually().untilAsserted(() -> assertThat(clusterIp("frontend-svc")).isEqualTo("10.100.0.3"));
    assertThat(clusterIp("backend-svc")).isEqualTo("10.100.0.2");
  }

  // ---- Deployments, scheduling, pod status

  @Test
  void turnsTheBlogsDeploymentFragmentIntoRunningReadyPodsSpreadOverTheNodes() {
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.2.10").endAddress().endStatus()
        .build()).create();
    client.services().inNamespace(NS).resource(backendSvc()).create();
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a", "node-b");

    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));
    Deployment deployment = client.apps().deployments().inNamespace(NS).withName("backend").get();
    List<Pod> pods = pods();
    assertThat(pods).allSatisfy(pod -> {
      assertThat(pod.getMetadata().getName()).matches("backend-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}");
      assertThat(pod.getMetadata().getLabels())
          .containsEntry("app", "backend").containsEntry("role", "database-service").containsKey("pod-template-hash");
      assertThat(pod.getMetadata().getOwnerReferences()).singleElement().satisfies(owner -> {
        assertThat(owner.getKind()).isEqualTo("Deployment");
        assertThat(owner.getName()).isEqualTo("backend");
        assertThat(owner.getUid()).isEqualTo(deployment.getMetadata().getUid());
        assertThat(owner.getController()).isTrue();
      });
      assertThat(pod.getStatus().getPodIP()).startsWith("10.9.0.");
      assertThat(pod.getStatus().getPodIPs()).singleElement().satisfies(ip -> assertThat(ip.getIp()).isEqualTo(pod.getStatus().getPodIP()));
    });
    assertThat(pods).extracting(p -> p.getSpec().getNodeName()).containsExactlyInAnyOrder("node-a", "node-b");
    Pod onA = pods.stream().filter(p -> p.getSpec().getNodeName().equals("node-a")).findFirst().orElseThrow();
    Pod onB = pods.stream().filter(p -> p.getSpec().getNodeName().equals("node-b")).findFirst().orElseThrow();
    assertThat(onA.getStatus().getHostIP()).isEqualTo("198.18.2.10");
    assertThat(onB.getStatus().getHostIP()).as("node-b has no Node object, so no InternalIP").isNull();
    // No containers declared: the server listens on the targetPort of the Service selecting the pod.
    assertThat(runtime.served).containsEntry(Pods.key(onA), java.util.Set.of(3000));
    assertThat(runtime.answers).containsEntry(Pods.key(onA), onA.getMetadata().getName());
    eventually().untilAsserted(() -> {
      var status = client.apps().deployments().inNamespace(NS).withName("backend").get().getStatus();
      assertThat(status.getReplicas()).isEqualTo(2);
      assertThat(status.getReadyReplicas()).isEqualTo(2);
    });
  }

  @Test
  void recordsEveryPodInTheRunDirectoryWithItsNetnsAndIp() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a");

    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));
    for (Pod pod : pods()) {
      PodRecord record = PodRecord.read(runDir, NS, pod.getMetadata().getName()).orElseThrow();
      assertThat(record.node()).isEqualTo("node-a");
      assertThat(record.netns()).matches("mwt-klt-u-[0-9a-f]{8}");
      assertThat(record.ip()).isEqualTo(pod.getStatus().getPodIP());
    }
    assertThat(PodRecord.readAll(runDir)).hasSize(2);
    assertThat(PodRecord.read(runDir, NS, "nobody")).isEmpty();
  }

  @Test
  void scalesTheDeploymentUpAndDown() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a", "node-b");
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));

    client.apps().deployments().inNamespace(NS).withName("backend").scale(3);
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(3));
    assertThat(pods()).hasSize(3);

    client.apps().deployments().inNamespace(NS).withName("backend").scale(1);
    eventually().untilAsserted(() -> {
      assertThat(pods()).hasSize(1);
      assertThat(PodRecord.readAll(runDir)).hasSize(1);
    });
    assertThat(runtime.removed()).hasSize(2);
  }

  @Test
  void replacesADeletedPod() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a");
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));
    Pod victim = pods().getFirst();

    client.pods().inNamespace(NS).withName(victim.getMetadata().getName()).delete();

    eventually().untilAsserted(() -> {
      assertThat(runningReadyPods()).hasSize(2)
          .noneMatch(p -> p.getMetadata().getName().equals(victim.getMetadata().getName()));
      assertThat(runtime.detached()).anySatisfy(d -> {
        assertThat(d.pod()).isEqualTo(Pods.key(victim));
        assertThat(d.prevResult()).contains(victim.getStatus().getPodIP());
      });
    });
    assertThat(PodRecord.read(runDir, NS, victim.getMetadata().getName())).isEmpty();
  }

  @Test
  void deletesThePodsOfADeletedDeployment() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a");
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));

    client.apps().deployments().inNamespace(NS).withName("backend").delete();

    eventually().untilAsserted(() -> {
      assertThat(pods()).isEmpty();
      assertThat(PodRecord.readAll(runDir)).isEmpty();
    });
  }

  @Test
  void schedulesABareUnscheduledPodToTheNodeWithFewestPods() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(3)).create();
    start("node-a", "node-b");
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(3));
    Map<String, Long> perNode = pods().stream().collect(Collectors.groupingBy(p -> p.getSpec().getNodeName(), Collectors.counting()));
    String lighter = perNode.get("node-a") < perNode.get("node-b") ? "node-a" : "node-b";

    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
        .withNewSpec().endSpec().build()).create();

    eventually().untilAsserted(() ->
        assertThat(client.pods().inNamespace(NS).withName("client").get().getSpec().getNodeName()).isEqualTo(lighter));
  }

  @Test
  void leavesPodsBoundToOtherNodesAlone() {
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("elsewhere").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-z").endSpec().build()).create();
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("here").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").endSpec().build()).create();

    eventually().untilAsserted(() -> assertThat(PodRecord.read(runDir, NS, "here")).isPresent());
    assertThat(PodRecord.read(runDir, NS, "elsewhere")).isEmpty();
    assertThat(client.pods().inNamespace(NS).withName("elsewhere").get().getStatus()).isNull();
  }

  @Test
  void servesTheDeclaredContainerPortsAndIsReadyOnlyWhenTheyAnswer() {
    runtime.refusing.add(8081);
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("web").withNamespace(NS)
        .addToLabels("app", "backend").addToLabels("role", "database-service").endMetadata()
        .withNewSpec().addNewContainer().withName("web").withImage("busybox")
        .withPorts(new ContainerPortBuilder().withContainerPort(8080).build(),
            new ContainerPortBuilder().withContainerPort(8081).build(),
            new ContainerPortBuilder().withContainerPort(5353).withProtocol("UDP").build())
        .endContainer().endSpec().build()).create();
    client.services().inNamespace(NS).resource(backendSvc()).create();

    eventually().untilAsserted(() -> {
      Pod web = client.pods().inNamespace(NS).withName("web").get();
      assertThat(web.getStatus().getPhase()).isEqualTo("Running");
      assertThat(runtime.served.get(NS + "/web")).containsExactlyInAnyOrder(8080, 8081);
    });
    assertThat(Pods.isReady(client.pods().inNamespace(NS).withName("web").get())).isFalse();

    runtime.refusing.clear();

    eventually().untilAsserted(() -> {
      Pod web = client.pods().inNamespace(NS).withName("web").get();
      assertThat(Pods.isReady(web)).isTrue();
      assertThat(web.getStatus().getContainerStatuses()).singleElement().satisfies(c -> assertThat(c.getReady()).isTrue());
    });
  }

  List<Event> sandboxFailures() {
    return client.v1().events().inNamespace(NS).list().getItems().stream()
        .filter(e -> "FailedCreatePodSandBox".equals(e.getReason()))
        .toList();
  }

  @Test
  void reportsAFailedCniAddOnceAsAnEventAndRetriesIt() {
    runtime.failAttaches(2, 113);
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").endSpec().build()).create();

    eventually().untilAsserted(() -> {
      Pod pod = client.pods().inNamespace(NS).withName("client").get();
      assertThat(pod.getStatus().getPhase()).isEqualTo("Running");
      assertThat(pod.getStatus().getPodIP()).isNotNull();
    });
    assertThat(sandboxFailures()).as("the same failure twice is one event").singleElement().satisfies(e -> {
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getInvolvedObject().getName()).isEqualTo("client");
      assertThat(e.getMessage()).contains("error 113: agent says no");
    });
    assertThat(runtime.detached()).as("each failed ADD is cleaned up with a DEL without prevResult")
        .hasSize(2)
        .allSatisfy(d -> assertThat(d.prevResult()).isNull());
  }

  @Test
  void showsAFailingAddInThePodsStatusUntilItSucceeds() {
    runtime.failAttaches(1_000, 113);
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").endSpec().build()).create();

    eventually().untilAsserted(() -> {
      Pod pod = client.pods().inNamespace(NS).withName("client").get();
      assertThat(pod.getStatus().getPhase()).isEqualTo("Pending");
      assertThat(pod.getStatus().getConditions())
          .filteredOn(c -> c.getType().equals("PodReadyToStartContainers"))
          .singleElement()
          .satisfies(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("FailedCreatePodSandBox");
            assertThat(c.getMessage()).contains("error 113");
          });
    });

    runtime.failAttaches(0, 0);

    await().atMost(Duration.ofSeconds(90)).ignoreExceptions().untilAsserted(() ->
        assertThat(client.pods().inNamespace(NS).withName("client").get().getStatus().getPhase()).isEqualTo("Running"));
  }

  @Test
  void triesAgainEverySecondWhileThePluginSaysTryAgainLater() {
    runtime.failAttaches(3, PodRuntimeException.TRY_AGAIN_LATER);
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").endSpec().build()).create();

    eventually().untilAsserted(() ->
        assertThat(client.pods().inNamespace(NS).withName("client").get().getStatus().getPhase()).isEqualTo("Running"));
    assertThat(runtime.detached()).hasSize(3);
    assertThat(sandboxFailures()).singleElement().satisfies(e -> assertThat(e.getMessage()).contains("error 11"));
  }

  // ---- EndpointSlices

  EndpointSlice sliceOf(String service) {
    List<EndpointSlice> slices = client.discovery().v1().endpointSlices().inNamespace(NS)
        .withLabel("kubernetes.io/service-name", service).list().getItems();
    assertThat(slices).hasSize(1);
    return slices.getFirst();
  }

  @Test
  void maintainsAnEndpointSliceWithTheReadyPodsOfTheService() {
    client.services().inNamespace(NS).resource(backendSvc()).create();
    start("node-a", "node-b");
    eventually().untilAsserted(() -> assertThat(sliceOf("backend-svc").getEndpoints()).isNullOrEmpty());

    client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a")
        .addToLabels("topology.kubernetes.io/zone", "zone-1").endMetadata().build()).create();
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();

    eventually().untilAsserted(() -> {
      List<Pod> pods = runningReadyPods();
      assertThat(pods).hasSize(2);
      EndpointSlice slice = sliceOf("backend-svc");
      assertThat(slice.getEndpoints()).extracting(e -> e.getAddresses().getFirst())
          .containsExactlyInAnyOrderElementsOf(pods.stream().map(Pods::podIp).toList());
      assertThat(slice.getEndpoints()).allSatisfy(e -> {
        assertThat(e.getConditions().getReady()).isTrue();
        assertThat(e.getConditions().getServing()).isTrue();
        assertThat(e.getConditions().getTerminating()).isFalse();
        assertThat(e.getTargetRef().getKind()).isEqualTo("Pod");
      });
      assertThat(slice.getEndpoints()).filteredOn(e -> "node-a".equals(e.getNodeName()))
          .singleElement().satisfies(e -> assertThat(e.getZone()).isEqualTo("zone-1"));
    });
    EndpointSlice slice = sliceOf("backend-svc");
    Service service = client.services().inNamespace(NS).withName("backend-svc").get();
    assertThat(slice.getAddressType()).isEqualTo("IPv4");
    assertThat(slice.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(3000);
      assertThat(p.getProtocol()).isEqualTo("TCP");
    });
    assertThat(slice.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
      assertThat(o.getKind()).isEqualTo("Service");
      assertThat(o.getUid()).isEqualTo(service.getMetadata().getUid());
    });
    Endpoint onB = slice.getEndpoints().stream().filter(e -> "node-b".equals(e.getNodeName())).findFirst().orElseThrow();
    assertThat(onB.getZone()).isNull();
  }

  @Test
  void marksAPodThatStopsAnsweringAsNotReadyInTheSlice() {
    client.services().inNamespace(NS).resource(backendSvc()).create();
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(1)).create();
    start("node-a");
    eventually().untilAsserted(() -> assertThat(sliceOf("backend-svc").getEndpoints())
        .singleElement().satisfies(e -> assertThat(e.getConditions().getReady()).isTrue()));

    runtime.refusing.add(3000);

    await().atMost(Duration.ofSeconds(KubeletShim.RESYNC.toSeconds() + 50)).ignoreExceptions().untilAsserted(() ->
        assertThat(sliceOf("backend-svc").getEndpoints()).singleElement().satisfies(e -> {
          assertThat(e.getConditions().getReady()).isFalse();
          assertThat(e.getConditions().getServing()).isFalse();
        }));
  }

  @Test
  void resolvesANamedTargetPortThroughThePodsContainerPorts() {
    client.services().inNamespace(NS).resource(new ServiceBuilder(backendSvc())
        .editSpec().withPorts().addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString("web")).endPort().endSpec()
        .build()).create();
    start("node-a");
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("web").withNamespace(NS)
        .addToLabels("app", "backend").addToLabels("role", "database-service").endMetadata()
        .withNewSpec().addNewContainer().withName("web").withImage("busybox")
        .withPorts(new ContainerPortBuilder().withName("web").withContainerPort(8080).build())
        .endContainer().endSpec().build()).create();

    eventually().untilAsserted(() -> {
      EndpointSlice slice = sliceOf("backend-svc");
      assertThat(slice.getEndpoints()).hasSize(1);
      assertThat(slice.getPorts()).singleElement().satisfies(p -> {
        assertThat(p.getName()).isEqualTo("http");
        assertThat(p.getPort()).isEqualTo(8080);
      });
    });
  }

  @Test
  void removesTheSlicesOfADeletedService() {
    client.services().inNamespace(NS).resource(backendSvc()).create();
    start("node-a");
    eventually().untilAsserted(() -> sliceOf("backend-svc"));

    client.services().inNamespace(NS).withName("backend-svc").delete();

    eventually().untilAsserted(() -> assertThat(client.discovery().v1().endpointSlices().inNamespace(NS).list().getItems()).isEmpty());
  }

  // ---- name files

  @Test
  void writesAHostsFileWithEveryServiceOfTheClusterAndKeepsItCurrent() {
    client.services().inNamespace(NS).resource(backendSvc()).create();
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS).endMetadata()
        .withNewSpec().withNodeName("node-a").endSpec().build()).create();
    start("node-a");
    String netns = PodRecord.read(runDir, NS, "client").map(PodRecord::netns).orElseThrow();

    // The ClusterIP may be allocated after the pod's first hosts file: the file follows it.
    eventually().untilAsserted(() -> assertThat(runtime.hosts.get(netns))
        .contains("127.0.0.1\tlocalhost\n")
        .contains(PodRecord.read(runDir, NS, "client").orElseThrow().ip() + "\tclient\n")
        .contains(clusterIp("backend-svc")
            + "\tbackend-svc.testing.svc.cluster.local backend-svc.testing.svc backend-svc.testing backend-svc\n"));
    assertThat(clusterIp("backend-svc")).isNotNull();
    assertThat(runtime.resolvConfs.get(netns))
        .contains("search testing.svc.cluster.local svc.cluster.local cluster.local\n");

    client.services().inNamespace("other").resource(new ServiceBuilder(backendSvc())
        .editMetadata().withName("db").withNamespace("other").endMetadata().build()).create();

    eventually().untilAsserted(() -> assertThat(runtime.hosts.get(netns))
        .contains(clusterIp("backend-svc") + "\tbackend-svc.testing.svc.cluster.local")
        .containsPattern("10\\.100\\.0\\.\\d+\tdb\\.other\\.svc\\.cluster\\.local db\\.other\\.svc db\\.other\n"));
  }

  // ---- close and restart

  @Test
  void closeDetachesAndRemovesEverySandboxWithItsCniResult() {
    client.apps().deployments().inNamespace(NS).resource(backendDeployment(2)).create();
    start("node-a");
    eventually().untilAsserted(() -> assertThat(runningReadyPods()).hasSize(2));
    Map<String, String> ips = pods().stream().collect(Collectors.toMap(Pods::key, Pods::podIp));

    shim.close();

    assertThat(runtime.detached()).hasSize(2).allSatisfy(d -> assertThat(d.prevResult()).contains(ips.get(d.pod())));
    assertThat(runtime.removed()).containsExactlyInAnyOrderElementsOf(ips.keySet());
    assertThat(PodRecord.readAll(runDir)).isEmpty();
    assertThat(pods()).as("objects in the API are left alone").hasSize(2);
  }

  @Test
  void aNewShimRemovesWhatACrashedOneLeftAndStartsThePodsAgain() throws Exception {
    client.pods().inNamespace(NS).resource(new PodBuilder().withNewMetadata().withName("client").withNamespace(NS)
        .withUid("uid-1").endMetadata().withNewSpec().withNodeName("node-a").endSpec().build()).create();
    PodStore store = new PodStore(runDir);
    Sandbox left = store.create(NS, "client", "uid-0", "node-a", Path.of("/x.conflist"), "mwt-klt-u-0000dead", "c".repeat(64));
    store.recordAttachment(left, "10.9.9.9", "{\"ips\":[{\"address\":\"10.9.9.9/32\"}]}");

    start("node-a");

    assertThat(runtime.detached()).first().satisfies(d -> {
      assertThat(d.netns()).isEqualTo("mwt-klt-u-0000dead");
      assertThat(d.prevResult()).contains("10.9.9.9");
    });
    Optional<PodRecord> record = PodRecord.read(runDir, NS, "client");
    assertThat(record).hasValueSatisfying(r -> {
      assertThat(r.netns()).isNotEqualTo("mwt-klt-u-0000dead");
      assertThat(r.ip()).startsWith("10.9.0.");
    });
  }
}
