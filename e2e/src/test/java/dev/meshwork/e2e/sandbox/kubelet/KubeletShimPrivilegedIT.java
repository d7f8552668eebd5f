package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import dev.meshwork.testing.process.Command;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;

/**
 * The real pod runtime (as root): a test node namespace with a bridge, a small CNI plugin
 * ({@code test-veth-cni}, a shell script in the test resources) that records its environment and
 * stdin and connects each pod namespace to the bridge with a veth pair, the blog's backend
 * Deployment and Service in the CRUD mock API server. Proves the CNI contract as kubelet keeps it,
 * the pod namespaces, busybox httpd answering with the pod's name from another pod's namespace,
 * the hosts file, and that close() and cleanUp() leave no namespace, process or /etc/netns
 * directory behind.
 */
@Tag("privileged")
class KubeletShimPrivilegedIT {

  static final String NS = "testing";

  @RegisterExtension final MockApi api = new MockApi();
  KubernetesClient client;
  @TempDir Path dir;
  NetworkNamespaces namespaces;
  NetworkNamespace node;
  Path plugin;
  Path state;
  Path runDir;
  KubeletShim shim;

  @BeforeEach
  void nodeAndPlugin() throws IOException {
    NetworkNamespaces.assumeRoot();
    client = api.client();
    namespaces = new NetworkNamespaces("klt");
    node = namespaces.create("node");
    node.ipBatch(List.of(
        "link add br0 type bridge",
        "addr add 10.244.0.1/24 dev br0",
        "link set br0 up"));
    Path bin = Files.createDirectories(dir.resolve("bin"));
    plugin = bin.resolve("test-veth-cni");
    try (InputStream script = getClass().getResourceAsStream("test-veth-cni")) {
      Files.copy(script, plugin);
    }
    Files.setPosixFilePermissions(plugin, PosixFilePermissions.fromString("rwxr-xr-x"));
    state = Files.createDirectories(dir.resolve("cni-state"));
    runDir = dir.resolve("run");
  }

  @AfterEach
  void cleanUp() {
    if (shim != null) {
      shim.close();
    }
    if (runDir != null) {
      KubeletShim.cleanUp(runDir);
    }
    if (namespaces != null) {
      namespaces.close();
    }
  }

  KubeletShim start() throws IOException {
    Path confList = dir.resolve("05-meshwork.conflist");
    Files.writeString(confList, """
        {"cniVersion": "1.0.0", "name": "klt-test", "plugins": [
          {"type": "test-veth-cni", "nodeNetns": "%s", "subnetPrefix": "10.244.0", "stateDir": "%s"}
        ]}""".formatted(node.name(), state));
    client.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-a").endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.0.10").endAddress().endStatus()
        .build()).create();
    client.services().inNamespace(NS).resource(KubeletShimTest.backendSvc()).create();
    client.apps().deployments().inNamespace(NS).resource(KubeletShimTest.backendDeployment(2)).create();
    shim = new KubeletShim(client, new KubeletShim.Settings(
        "k8s-shared-cluster", IpPrefix.parse("10.100.0.0/16"),
        List.of(new KubeletShim.NodeSpec("node-a", confList)), plugin, runDir, namespaces.prefix() + "-p"));
    shim.start();
    return shim;
  }

  static ConditionFactory eventually() {
    return await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).ignoreExceptions();
  }

  List<Pod> readyPods() {
    return client.pods().inNamespace(NS).list().getItems().stream()
        .filter(p -> p.getStatus() != null && "Running".equals(p.getStatus().getPhase()) && Pods.isReady(p))
        .toList();
  }

  Sandbox sandbox(Pod pod) {
    return new PodStore(runDir).sandboxes().stream()
        .filter(s -> s.name().equals(pod.getMetadata().getName()))
        .findFirst().orElseThrow();
  }

  static String inPod(String netns, String... command) {
    List<String> all = new ArrayList<>(List.of("ip", "netns", "exec", netns));
    all.addAll(List.of(command));
    return Command.run(all, Duration.ofSeconds(10)).output();
  }

  static Map<String, String> env(Path file) throws IOException {
    return Files.readAllLines(file).stream().map(l -> l.split("=", 2)).collect(Collectors.toMap(kv -> kv[0], kv -> kv[1]));
  }

  /** What a pod leaves on the machine: its namespace, its name files, its server processes. */
  record Traces(String netns, List<PodStore.RecordedProcess> processes) {
    boolean gone() {
      return !Files.exists(Path.of("/run/netns", netns))
          && !Files.exists(Path.of("/etc/netns", netns))
          && processes.stream().noneMatch(p -> ServerProcesses.startTime(p.pid()).filter(p.startTime()::equals).isPresent());
    }
  }

  Traces traces(Sandbox sandbox) {
    return new Traces(sandbox.netns(), PodStore.processes(sandbox.dir()));
  }

  @Test
  void runsEachPodInItsOwnNamespaceAttachedByTheCniPluginAndAnsweringWithItsName() throws Exception {
    start();
    eventually().untilAsserted(() -> assertThat(readyPods()).hasSize(2));
    List<Pod> pods = readyPods();
    Pod a = pods.get(0);
    Pod b = pods.get(1);
    Sandbox sandboxA = sandbox(a);
    Sandbox sandboxB = sandbox(b);

    // The CNI call, exactly as kubelet makes it.
    Map<String, String> env = env(state.resolve("calls/ADD-" + sandboxA.containerId() + ".env"));
    assertThat(env).containsExactlyInAnyOrderEntriesOf(Map.of(
        "CNI_COMMAND", "ADD",
        "CNI_CONTAINERID", sandboxA.containerId(),
        "CNI_NETNS", "/var/run/netns/" + sandboxA.netns(),
        "CNI_IFNAME", "eth0",
        "CNI_PATH", plugin.getParent().toString(),
        "CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=testing;K8S_POD_NAME=" + a.getMetadata().getName()
            + ";K8S_POD_INFRA_CONTAINER_ID=" + sandboxA.containerId() + ";K8S_POD_UID=" + a.getMetadata().getUid()));
    JsonNode stdin = CniClient.JSON.readTree(Files.readString(state.resolve("calls/ADD-" + sandboxA.containerId() + ".stdin")));
    assertThat(stdin.path("name").asString()).isEqualTo("klt-test");
    assertThat(stdin.path("cniVersion").asString()).isEqualTo("1.0.0");
    assertThat(stdin.path("type").asString()).isEqualTo("test-veth-cni");
    assertThat(stdin.has("prevResult")).isFalse();

    // The pod's namespace, its address, its status and record.
    assertThat(sandboxA.netns()).startsWith(namespaces.prefix() + "-p");
    assertThat(Path.of("/run/netns", sandboxA.netns())).exists();
    assertThat(a.getStatus().getPodIP()).startsWith("10.244.0.");
    assertThat(a.getStatus().getHostIP()).isEqualTo("198.18.0.10");
    assertThat(inPod(sandboxA.netns(), "ip", "-4", "-o", "addr", "show", "dev", "eth0")).contains(a.getStatus().getPodIP() + "/24");
    assertThat(PodRecord.read(runDir, NS, a.getMetadata().getName()))
        .hasValue(new PodRecord(NS, a.getMetadata().getName(), "node-a", sandboxA.netns(), a.getStatus().getPodIP()));

    // Each pod's server answers with the pod's name, asked from the other pod's namespace.
    assertThat(inPod(sandboxA.netns(), "/bin/busybox", "wget", "-qO-", "http://" + b.getStatus().getPodIP() + ":3000/"))
        .isEqualTo(b.getMetadata().getName());
    assertThat(inPod(sandboxB.netns(), "/bin/busybox", "wget", "-qO-", "http://" + a.getStatus().getPodIP() + ":3000/"))
        .isEqualTo(a.getMetadata().getName());

    // Service names resolve to the ClusterIP through /etc/netns/<netns>/hosts.
    eventually().untilAsserted(() -> {
      String clusterIp = client.services().inNamespace(NS).withName("backend-svc").get().getSpec().getClusterIP();
      assertThat(clusterIp).isNotNull();
      assertThat(inPod(sandboxA.netns(), "getent", "hosts", "backend-svc.testing.svc.cluster.local")).startsWith(clusterIp + " ");
      assertThat(inPod(sandboxA.netns(), "getent", "hosts", "backend-svc")).startsWith(clusterIp + " ");
    });
    assertThat(inPod(sandboxA.netns(), "cat", "/etc/resolv.conf")).contains("search testing.svc.cluster.local svc.cluster.local cluster.local");

    eventually().untilAsserted(() -> {
      EndpointSlice slice = client.discovery().v1().endpointSlices().inNamespace(NS)
          .withLabel("kubernetes.io/service-name", "backend-svc").list().getItems().getFirst();
      assertThat(slice.getEndpoints()).extracting(e -> e.getAddresses().getFirst())
          .containsExactlyInAnyOrder(a.getStatus().getPodIP(), b.getStatus().getPodIP());
    });

    // A deleted pod: DEL with the ADD result, nothing left of it; the Deployment replaces it.
    Traces ofA = traces(sandboxA);
    assertThat(ofA.processes()).hasSize(1);
    assertThat(ofA.gone()).isFalse();
    client.pods().inNamespace(NS).withName(a.getMetadata().getName()).delete();
    eventually().untilAsserted(() -> {
      assertThat(ofA.gone()).isTrue();
      assertThat(PodRecord.read(runDir, NS, a.getMetadata().getName())).isEmpty();
    });
    JsonNode del = CniClient.JSON.readTree(Files.readString(state.resolve("calls/DEL-" + sandboxA.containerId() + ".stdin")));
    assertThat(del.path("prevResult").path("ips").get(0).path("address").asString()).isEqualTo(a.getStatus().getPodIP() + "/24");
    assertThat(env(state.resolve("calls/DEL-" + sandboxA.containerId() + ".env")))
        .containsEntry("CNI_NETNS", "/var/run/netns/" + sandboxA.netns());
    eventually().untilAsserted(() -> assertThat(readyPods()).hasSize(2));

    // close(): every pod detached and removed.
    List<Traces> all = new PodStore(runDir).sandboxes().stream().map(this::traces).toList();
    assertThat(all).hasSize(2);
    shim.close();
    assertThat(all).allSatisfy(t -> assertThat(t.gone()).as("%s", t).isTrue());
    assertThat(PodRecord.readAll(runDir)).isEmpty();
    try (var left = Files.list(state)) {
      assertThat(left.map(p -> p.getFileName().toString())).as("every address was freed by a DEL").containsExactly("calls");
    }
    assertThat(node.execOrThrow("ip", "-o", "link", "show").stdout()).doesNotContain("tv");
  }

  @Test
  void cleanUpAfterACrashLeavesNoNamespaceProcessOrNameFiles() throws Exception {
    start();
    eventually().untilAsserted(() -> assertThat(readyPods()).hasSize(2));
    List<Traces> all = new PodStore(runDir).sandboxes().stream().map(this::traces).toList();
    assertThat(all).hasSize(2).allSatisfy(t -> {
      assertThat(t.gone()).isFalse();
      assertThat(Path.of("/etc/netns", t.netns(), "hosts")).exists();
    });

    shim.abandon();
    KubeletShim.cleanUp(runDir);

    assertThat(all).allSatisfy(t -> assertThat(t.gone()).as("%s", t).isTrue());
    assertThat(PodRecord.readAll(runDir)).isEmpty();
  }
}
