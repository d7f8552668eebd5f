package dev.meshwork.agent.service.kubernetes;

import static dev.meshwork.agent.testsupport.ClusterOperatorDouble.backend;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.agent.testsupport.RecordingDatapath;
import dev.meshwork.agent.testsupport.TestAgent;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.proto.v1.Affinity;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.ServiceBackendInfo;
import dev.meshwork.proto.v1.ServiceInfo;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent of a node of k8s-test-cluster with its Services in a (mock, CRUD) Kubernetes API, its
 * own etcd and k8s-shared-cluster's etcd: every local Service is programmed from the API, a global
 * one also gets the shared cluster's backends, each backend exactly once.
 */
@EnableKubernetesMockClient(crud = true)
class LocalServicesIT {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final L4Address WEB = frontend("172.20.0.10");
  static final L4Address BACKEND_SVC = frontend("172.20.17.66");

  @RegisterExtension static final EtcdExtension testEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;
  ClusterOperatorDouble test;
  ClusterOperatorDouble shared;
  TestAgent agent;
  final List<AutoCloseable> closeables = new ArrayList<>();

  static L4Address frontend(String ip) {
    return new L4Address(Ipv4.parse(ip), 80, Protocol.TCP);
  }

  @BeforeEach
  void setUp() throws Exception {
    for (EtcdExtension etcd : List.of(testEtcd, sharedEtcd)) {
      etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    }
    Path meshDir = Files.createDirectories(tmp.resolve("clustermesh"));
    test = new ClusterOperatorDouble(testEtcd, TEST, 1);
    shared = new ClusterOperatorDouble(sharedEtcd, SHARED, 2);
    closeables.add(test);
    closeables.add(shared);
    Path localConfig = test.writeConfigFile(Files.createDirectories(tmp.resolve("local")));
    test.writeClusterConfig();
    test.node("test-node-1", "198.18.0.1", "10.1.0.0/24");
    shared.writeClusterConfig();
    shared.node("shared-node-1", "198.18.1.1", "10.2.1.0/24");
    shared.writeConfigFile(meshDir);

    AgentConfig config =
        TestAgent.config(TEST, 1, "test-node-1", localConfig, meshDir, tmp.resolve("agent.sock"), Optional.empty(),
                Optional.of(client))
            .withPolicy(AgentConfig.PolicyEnforcement.DISABLED, true);
    agent = new TestAgent(config, new RecordingDatapath(), Optional.of(client));
    closeables.add(agent);
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  void createService(String name, String clusterIp, String... annotations) {
    var metadata = new ServiceBuilder().withNewMetadata().withNamespace("testing").withName(name);
    for (int i = 0; i < annotations.length; i += 2) {
      metadata.addToAnnotations(annotations[i], annotations[i + 1]);
    }
    client.services().inNamespace("testing").resource(
        metadata.endMetadata()
            .withNewSpec().withClusterIP(clusterIp).withSelector(java.util.Map.of("app", name))
            .addNewPort().withName("http").withPort(80).withProtocol("TCP").withTargetPort(new IntOrString("web")).endPort()
            .endSpec().build()).create();
  }

  /** The EndpointSlice of {@code service}: "ip" ready, or "ip:terminating"; port http = 8080. */
  void slice(String service, String... endpoints) {
    var slice = new EndpointSliceBuilder()
        .withNewMetadata().withNamespace("testing").withName(service + "-slice")
        .addToLabels("kubernetes.io/service-name", service).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort();
    for (String e : endpoints) {
      boolean terminating = e.endsWith(":terminating");
      slice.addNewEndpoint().withAddresses(e.replace(":terminating", ""))
          .withNewConditions().withReady(!terminating).withServing(true).withTerminating(terminating).endConditions()
          .endEndpoint();
    }
    client.discovery().v1().endpointSlices().inNamespace("testing").resource(slice.build()).createOr(r -> r.update());
  }

  List<String> programmed(L4Address frontend) throws Exception {
    Service s = agent.datapath.snapshot().services().get(frontend);
    return s == null ? null : s.backends().stream().map(L4Address::toString).toList();
  }

  ServiceInfo listed(String name) {
    return agent.api().listServices(ListRequest.getDefaultInstance()).getServicesList().stream()
        .filter(s -> s.getName().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void nonGlobalServiceIsProgrammedWithItsLocalBackendsOnlyAndFollowsItsSlices() throws Exception {
    // The shared cluster exports a global testing/web: a non-global local web must not import it.
    shared.service("testing", "web", "172.21.0.10", true, Affinity.AFFINITY_NONE, backend("10.2.1.17", true));
    shared.synced();
    test.synced();
    createService("web", "172.20.0.10");
    slice("web", "10.1.0.5", "10.1.0.6:terminating");

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(WEB)).containsExactly("10.1.0.5:8080/TCP"));
    ServiceInfo info = listed("web");
    assertThat(info.getGlobal()).isFalse();
    assertThat(info.getBackendsList()).extracting(ServiceBackendInfo::getCluster).containsExactly(TEST);
    assertThat(agent.api().listLoadBalancerEntries(ListRequest.getDefaultInstance()).getEntriesList())
        .anyMatch(e -> e.getServiceAddress().equals("172.20.0.10:80/TCP") && e.getBackendAddress().equals("10.1.0.5:8080/TCP"));

    // Only the terminating backend is left: Kubernetes uses it rather than nothing.
    slice("web", "10.1.0.6:terminating");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(WEB)).containsExactly("10.1.0.6:8080/TCP"));

    client.services().inNamespace("testing").withName("web").delete();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(programmed(WEB)).isNull());
  }

  @Test
  void globalServiceGetsTheRemoteBackendsExactlyOnceAndTheLocalEtcdCopyIsNotUsed() throws Exception {
    // The local operator's copy in etcd is stale (10.1.0.99): the Kubernetes API is the local source.
    test.service("testing", "backend-svc", "172.20.17.66", true, Affinity.AFFINITY_NONE, backend("10.1.0.99", true));
    test.synced();
    shared.service("testing", "backend-svc", "172.21.8.4", true, Affinity.AFFINITY_NONE,
        backend("10.2.1.17", true), backend("10.2.2.9", true));
    shared.synced();
    createService("backend-svc", "172.20.17.66", "service.cilium.io/global", "true");
    slice("backend-svc", "10.1.0.9");

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(BACKEND_SVC))
            .containsExactly("10.1.0.9:8080/TCP", "10.2.1.17:8080/TCP", "10.2.2.9:8080/TCP"));
    assertThat(listed("backend-svc").getGlobal()).isTrue();
    assertThat(listed("backend-svc").getBackendsList()).extracting(ServiceBackendInfo::getCluster)
        .containsExactly(TEST, SHARED, SHARED);

    // A remote change and a local change converge; the stale etcd copy never shows up.
    shared.service("testing", "backend-svc", "172.21.8.4", true, Affinity.AFFINITY_NONE, backend("10.2.2.9", true));
    slice("backend-svc", "10.1.0.9", "10.1.0.10");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(BACKEND_SVC))
            .containsExactly("10.1.0.9:8080/TCP", "10.1.0.10:8080/TCP", "10.2.2.9:8080/TCP"));

    // No longer global: its own backends only.
    client.services().inNamespace("testing").withName("backend-svc")
        .edit(s -> new ServiceBuilder(s).editMetadata().removeFromAnnotations("service.cilium.io/global").endMetadata().build());
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(BACKEND_SVC)).containsExactly("10.1.0.9:8080/TCP", "10.1.0.10:8080/TCP"));
  }

  @Test
  void badServicesAreReportedByNameAndSkippedWhileEverythingElseIsProgrammed() throws Exception {
    test.synced();
    shared.synced();
    createService("web", "172.20.0.10");
    slice("web", "10.1.0.5");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(programmed(WEB)).containsExactly("10.1.0.5:8080/TCP"));

    // An unusable change: reported by name, and what was programmed stays.
    client.services().inNamespace("testing").withName("web")
        .edit(s -> new ServiceBuilder(s).editSpec().withExternalIPs("not-an-ip").endSpec().build());
    // A malformed annotation: reported, and the documented default (not global) is used.
    createService("typo", "172.20.0.11", "service.cilium.io/global", "yes");
    slice("typo", "10.1.0.7");
    // Headless: nothing to program, nothing wrong.
    createService("db", "None");

    LocalServiceWatcher watcher = agent.localServices.orElseThrow();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(watcher.problems()).containsOnlyKeys("testing/web", "testing/typo");
      assertThat(watcher.problems().get("testing/web")).contains("rejected", "spec.externalIPs 'not-an-ip'");
      assertThat(watcher.problems().get("testing/typo")).contains("service.cilium.io/global=\"yes\"");
      assertThat(programmed(frontend("172.20.0.11"))).containsExactly("10.1.0.7:8080/TCP");
    });
    assertThat(programmed(WEB)).containsExactly("10.1.0.5:8080/TCP");
    assertThat(listed("typo").getGlobal()).isFalse();
    assertThat(agent.api().listServices(ListRequest.getDefaultInstance()).getServicesList())
        .extracting(ServiceInfo::getName).containsExactlyInAnyOrder("typo", "web");
    assertThat(agent.metrics.registry().get("meshwork_agent_local_services_rejected").counter().count()).isEqualTo(1.0);

    // Fixed: the problem goes away.
    client.services().inNamespace("testing").withName("web")
        .edit(s -> new ServiceBuilder(s).editSpec().withExternalIPs("198.18.5.1").endSpec().build());
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(watcher.problems()).containsOnlyKeys("testing/typo");
      assertThat(programmed(new L4Address(Ipv4.parse("198.18.5.1"), 80, Protocol.TCP))).containsExactly("10.1.0.5:8080/TCP");
    });
  }

  @Test
  void agentRestartKeepsLocalServicesWithoutFlappingAndRemovesOnlyThoseDeletedMeanwhile() throws Exception {
    test.synced();
    shared.synced();
    createService("web", "172.20.0.10");
    slice("web", "10.1.0.5");
    createService("old", "172.20.0.12");
    slice("old", "10.1.0.8");
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(programmed(WEB)).containsExactly("10.1.0.5:8080/TCP");
      assertThat(programmed(frontend("172.20.0.12"))).containsExactly("10.1.0.8:8080/TCP");
    });
    RecordingDatapath datapath = agent.datapath;
    agent.close();
    closeables.remove(agent);

    client.services().inNamespace("testing").withName("old").delete();
    int batches = datapath.batches.size();
    TestAgent restarted = new TestAgent(agent.config, datapath, Optional.of(client));
    closeables.add(restarted);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(restarted.localServices.orElseThrow().hasSynced()).isTrue();
      assertThat(datapath.snapshot().services()).doesNotContainKey(frontend("172.20.0.12"));
    });
    assertThat(programmed(WEB)).containsExactly("10.1.0.5:8080/TCP");
    assertThat(datapath.batches.subList(batches, datapath.batches.size()))
        .allSatisfy(b -> assertThat(b.serviceDeletes()).doesNotContain(WEB));
  }
}
