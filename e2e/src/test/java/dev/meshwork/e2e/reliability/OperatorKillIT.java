package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshwork-operator of k8s-shared-cluster runs as a real process against fabric8's mock API
 * server (CRUD mode) and is SIGKILLed while pods come and go, then started again. Its etcd ends
 * holding exactly the cluster's pods, one identity per label set, every node once with the pod
 * CIDR it had; and an agent of k8s-test-cluster reading that etcd never removes a pod or node
 * that still exists.
 */
class OperatorKillIT {
  static final String SHARED = "k8s-shared-cluster";
  static final String NS = "testing";

  @RegisterExtension static final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Mesh mesh;
  KubernetesMockServer server;
  KubernetesClient kubernetes;

  @BeforeAll
  static void awaitIgnoresNotYetThere() {
    Awaitility.ignoreExceptionsByDefault();
  }

  @AfterAll
  static void resetAwaitility() {
    Awaitility.reset();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (mesh != null) mesh.close();
    if (kubernetes != null) kubernetes.close();
    if (server != null) server.destroy();
  }

  @Test
  void operatorKilledMidChurnLeavesExactlyTheClusterStateWithoutDuplicatesOrWrongDeletes() throws Exception {
    MeshworkProcess.requireBuilt("operator");
    mesh = new Mesh(tmp, localEtcd);
    Mesh.clear(sharedEtcd);
    server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new KubernetesMixedDispatcher(new HashMap<>()), false);
    server.init();
    kubernetes = server.createClient();
    // The MeshNode CRD from the operator's jar, as the chart installs it.
    try (var yaml = OperatorKillIT.class.getResourceAsStream("/crds/meshnodes.meshwork.dev.yaml")) {
      kubernetes.apiextensions().v1().customResourceDefinitions().load(yaml).create();
    }
    Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster: {server: "%s"}
        contexts:
        - name: mock
          context: {cluster: mock, user: mock, namespace: default}
        current-context: mock
        users:
        - name: mock
          user: {token: test}
        """.formatted(kubernetes.getConfiguration().getMasterUrl()));
    Path kvstoreConfig = Files.writeString(tmp.resolve("shared-etcd.yaml"), "endpoints:\n  - " + sharedEtcd.endpoint() + "\n");
    Files.writeString(mesh.agentDir.resolve(SHARED), "endpoints:\n  - " + sharedEtcd.endpoint() + "\n");

    for (int n = 1; n <= 3; n++) node(n);
    ArrayDeque<String> pods = new ArrayDeque<>();
    for (int i = 1; i <= 9; i++) pods.add(pod(i));

    MeshworkProcess operator = mesh.track(new MeshworkProcess("operator", List.of(
        "--cluster-name=" + SHARED, "--cluster-id=2", "--kvstore-config=" + kvstoreConfig,
        "--cluster-pool-ipv4-cidr=10.2.0.0/16", "--cluster-pool-ipv4-mask-size=24", "--metrics-port=0",
        "--leader-election=false", "--heartbeat-interval=1s"),
        Map.of("KUBECONFIG", kubeconfig.toString(), "POD_NAME", "meshwork-operator-0"), logs())).start();
    InProcessAgent agent = mesh.agent(ClusterMesh.Source.DIRECT);

    try (Client etcd = EtcdClients.plain(List.of(URI.create(sharedEtcd.endpoint())))) {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertExactState(etcd, Set.copyOf(pods), 3));
      Map<String, List<String>> cidrsBefore = cidrs(etcd);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(agent.datapath.snapshot().ipcache().keySet()
          .stream().map(Object::toString)).contains(pods.getFirst().split("/")[1] + "/32"));
      agent.datapath.clearLog();

      // Churn: every 100 ms a new pod, the oldest deleted. The operator is killed after 2 s, the
      // churn goes on for 1 s without it, it is started again and the churn resumes for 2 s once
      // its informers have listed (see docs/reliability.md: pods deleted while the informers of
      // a starting operator list and open their watches were seen to stay in etcd, with the mock
      // API server).
      int[] next = {10};
      Runnable step = () -> {
        pods.add(pod(next[0]++));
        String oldest = pods.removeFirst();
        kubernetes.pods().inNamespace(NS).withName(oldest.split("/")[0]).delete();
      };
      churnFor(Duration.ofSeconds(2), step);
      operator.kill();
      long killedAt = next[0];
      churnFor(Duration.ofSeconds(1), step);
      operator.start();
      await("the restarted operator's informers listed").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100))
          .until(() -> operator.log().contains("controller pods completed its initial sync"));
      churnFor(Duration.ofSeconds(2), step);
      node(4);
      long churnEnded = System.nanoTime();
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
          .untilAsserted(() -> assertExactState(etcd, Set.copyOf(pods), 4));
      Duration converged = Duration.ofNanos(System.nanoTime() - churnEnded);

      Map<String, List<String>> cidrsAfter = cidrs(etcd);
      for (String node : cidrsBefore.keySet()) {
        assertThat(cidrsAfter.get(node)).as("pod CIDRs of %s across the kill", node).isEqualTo(cidrsBefore.get(node));
      }
      Set<String> podIps = new HashSet<>();
      pods.forEach(p -> podIps.add("ipcache " + p.split("/")[1] + "/32"));
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(agent.datapath.snapshot().ipcache().keySet()
          .stream().map(p -> "ipcache " + p)).containsAll(podIps));
      Set<String> nodeEntries = new HashSet<>();
      cidrsAfter.values().forEach(list -> list.forEach(c -> nodeEntries.add("ipcache " + c)));
      assertThat(agent.datapath.removals(r -> podIps.contains(r) || nodeEntries.contains(r)))
          .as("removals at a reader of pods and nodes that still exist").isEmpty();
      Figures.record("OperatorKillIT", "pods churned", (next[0] - 10) + " created and deleted, killed at pod " + killedAt);
      Figures.record("OperatorKillIT", "end of churn -> etcd holds exactly the cluster's state (poll 200 ms)", converged);
      Figures.record("OperatorKillIT", "wrong deletes at a reading agent", "0 of " + agent.datapath.removals().size() + " removals");
    }
  }

  static void churnFor(Duration duration, Runnable step) throws InterruptedException {
    long start = System.nanoTime();
    while (System.nanoTime() - start < duration.toNanos()) {
      step.run();
      Thread.sleep(100);
    }
  }

  /** The operator's logs outlive the test: target/reliability-logs/OperatorKillIT-<time>/. */
  static Path logs() throws java.io.IOException {
    return Files.createDirectories(Path.of("target", "reliability-logs", "OperatorKillIT-" + System.currentTimeMillis()));
  }

  void node(int n) {
    kubernetes.nodes().resource(new NodeBuilder().withNewMetadata().withName("node-" + n).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.2." + n).endAddress().endStatus()
        .build()).create();
  }

  /** Creates pod {@code backend-i} (labels app=backend-{i mod 3}) running; returns {@code name/ip}. */
  String pod(int i) {
    String name = "backend-" + i;
    String ip = "10.2.200." + (i % 250 + 1);
    int node = 1 + i % 3;
    Pod pod = new PodBuilder()
        .withNewMetadata().withName(name).withNamespace(NS).addToLabels("app", "backend-" + i % 3).endMetadata()
        .withNewSpec().withNodeName("node-" + node).addNewContainer().withName("app").withImage("busybox").endContainer().endSpec()
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP()
        .withHostIP("198.18.2." + node).endStatus()
        .build();
    kubernetes.pods().inNamespace(NS).resource(pod).create();
    return name + "/" + ip;
  }

  /** Exactly these pods in the ipcache, one identity per label set and no identity twice, {@code nodes} nodes with distinct CIDRs. */
  void assertExactState(Client etcd, Set<String> pods, int nodes) throws Exception {
    Map<String, IPCacheEntry> ipcache = read(etcd, Kind.IPCACHE);
    Map<String, String> expectedApps = new TreeMap<>();
    for (String p : pods) {
      String[] parts = p.split("/");
      expectedApps.put(parts[1], "backend-" + Integer.parseInt(parts[0].substring("backend-".length())) % 3);
    }
    assertThat(ipcache.keySet()).as("ipcache keys").containsExactlyInAnyOrderElementsOf(expectedApps.keySet());
    Map<String, Integer> identityOfApp = new HashMap<>();
    for (var e : ipcache.entrySet()) {
      Integer previous = identityOfApp.putIfAbsent(expectedApps.get(e.getKey()), e.getValue().getIdentity());
      if (previous != null) {
        assertThat(e.getValue().getIdentity()).as("identity of %s (app %s)", e.getKey(), expectedApps.get(e.getKey())).isEqualTo(previous);
      }
    }
    assertThat(Set.copyOf(identityOfApp.values())).as("one identity per label set").hasSameSizeAs(identityOfApp.keySet());
    Map<String, Identity> identities = read(etcd, Kind.IDENTITIES);
    Set<List<String>> labelSets = new HashSet<>();
    for (Identity identity : identities.values()) {
      assertThat(labelSets.add(List.copyOf(identity.getLabelsList()))).as("label set %s allocated once", identity.getLabelsList()).isTrue();
    }
    for (int id : identityOfApp.values()) {
      assertThat(identities.values().stream().map(Identity::getId)).as("identities").contains(id);
    }
    Map<String, Node> nodeKeys = read(etcd, Kind.NODES);
    assertThat(nodeKeys).hasSize(nodes);
    Set<String> allCidrs = new HashSet<>();
    for (Node n : nodeKeys.values()) {
      assertThat(n.getPodCidrsList()).isNotEmpty();
      for (String c : n.getPodCidrsList()) assertThat(allCidrs.add(c)).as("pod CIDR %s allocated once", c).isTrue();
    }
  }

  static Map<String, List<String>> cidrs(Client etcd) throws Exception {
    Map<String, List<String>> out = new TreeMap<>();
    read(etcd, Kind.NODES).forEach((name, node) -> out.put(name, ((Node) node).getPodCidrsList()));
    return out;
  }

  @SuppressWarnings("unchecked")
  static <T extends Message> Map<String, T> read(Client etcd, Kind kind) throws Exception {
    String prefix = KeyLayout.state().prefix(kind, SHARED);
    Map<String, T> out = new TreeMap<>();
    for (KeyValue kv : etcd.getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8),
        GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs()) {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      Decoded<? extends Message> decoded = ((Codec<Message>) kind.codec()).decode(key, kv.getValue().getBytes());
      if (!(decoded instanceof Decoded.Value<?> value)) throw new AssertionError("undecodable value at " + key + ": " + decoded);
      out.put(key.substring(prefix.length()), (T) value.value());
    }
    return out;
  }
}
