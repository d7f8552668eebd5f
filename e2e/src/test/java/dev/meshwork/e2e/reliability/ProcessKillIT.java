package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.cli.agent.AgentConnection;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.LoadBalancerEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * meshwork-agent and meshwork-kvstore-sync run as real processes (bin/launch, the packaged jars)
 * and are SIGKILLed while a remote cluster churns, then started again. What they hold at the end
 * is compared with what the remote holds at the end: nothing lost, nothing twice, nothing stale.
 */
class ProcessKillIT {
  static final String SHARED = "k8s-shared-cluster";

  @RegisterExtension static final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Mesh mesh;
  RemoteCluster shared;

  @BeforeAll
  static void awaitIgnoresNotYetThere() {
    Awaitility.ignoreExceptionsByDefault();
  }

  @AfterAll
  static void resetAwaitility() {
    Awaitility.reset();
  }

  @BeforeEach
  void setUp() throws Exception {
    mesh = new Mesh(tmp, localEtcd);
    shared = mesh.remote(sharedEtcd, SHARED, 2, 3, 4);
  }

  @AfterEach
  void tearDown() throws Exception {
    mesh.close();
  }

  @Test
  void agentKilledMidChurnProgramsExactlyTheRemoteStateAfterRestart() throws Exception {
    MeshworkProcess.requireBuilt("agent");
    Path socket = tmp.resolve("agent.sock");
    MeshworkProcess agent = mesh.track(new MeshworkProcess("agent", List.of(
        "--cluster-name=" + Mesh.LOCAL, "--cluster-id=1", "--node-name=" + Mesh.LOCAL + "-node-1",
        "--kvstore-config=" + mesh.localConfig, "--clustermesh-config-dir=" + mesh.agentDir,
        "--api-socket=" + socket, "--datapath=fake", "--metrics-port=0", "--local-services=disabled",
        "--policy-enforcement=disabled", "--clustermesh-poll-interval=100ms"), Map.of(), tmp)).start();
    awaitProgrammed(socket);

    Churn churn = new Churn(shared, 3, 50);
    Thread.sleep(1_000);
    agent.kill();
    long killedAtStep = churn.steps();
    Thread.sleep(1_000);
    agent.start();
    Thread.sleep(1_000);
    churn.close();

    long restartedAt = System.nanoTime();
    awaitProgrammed(socket);
    Duration converged = Duration.ofNanos(System.nanoTime() - restartedAt);
    assertThat(killedAtStep).as("churn steps before the kill").isPositive();
    Figures.record("ProcessKillIT.agent", "churn steps (pod replaced + service republished)", churn.steps() + " (kill at step " + killedAtStep + ")");
    Figures.record("ProcessKillIT.agent", "end of churn -> restarted agent programs exactly the remote state (poll 100 ms)", converged);
  }

  /** The agent's load-balancer entries for the frontend are exactly the remote's backends, each once. */
  void awaitProgrammed(Path socket) {
    SortedSet<String> expected = Mesh.expected(shared);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      try (AgentConnection connection = AgentConnection.open(socket)) {
        List<String> backends = connection.inspection().listLoadBalancerEntries(ListRequest.getDefaultInstance())
            .getEntriesList().stream()
            .filter(e -> e.getServiceAddress().equals(Mesh.FRONTEND.toString()) && e.getSlot() > 0)
            .map(LoadBalancerEntry::getBackendAddress).toList();
        assertThat(backends).as("backends of %s, in slot order", Mesh.FRONTEND).doesNotHaveDuplicates();
        assertThat(backends).containsExactlyInAnyOrderElementsOf(expected);
      }
    });
  }

  @Test
  void kvstoreSyncKilledMidChurnMirrorsExactlyTheRemoteStateAfterRestartAndTheCacheReaderLosesNothing()
      throws Exception {
    MeshworkProcess.requireBuilt("kvstore-sync");
    Path localConfig = Files.writeString(Files.createDirectories(tmp.resolve("kvstore-sync")).resolve("etcd-config.yaml"),
        "endpoints:\n  - " + localEtcd.endpoint() + "\n");
    MeshworkProcess sync = mesh.track(new MeshworkProcess("kvstore-sync", List.of(
        "--cluster-name=" + Mesh.LOCAL, "--cluster-id=1", "--kvstore-config=" + localConfig,
        "--clustermesh-config-dir=" + mesh.mirrorDir, "--metrics-port=0"), Map.of(), tmp)).start();
    InProcessAgent reader = mesh.agent(ClusterMesh.Source.CACHE);
    try (Client local = EtcdClients.plain(List.of(URI.create(localEtcd.endpoint())));
        Client remote = EtcdClients.plain(List.of(URI.create(sharedEtcd.endpoint())))) {
      awaitMirrored(local, remote);
      await().atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(reader.datapath.backends(Mesh.FRONTEND)).isEqualTo(Mesh.expected(shared)));
      reader.datapath.clearLog();

      Churn churn = new Churn(shared, 3, 50);
      Thread.sleep(1_000);
      sync.kill();
      long killedAtStep = churn.steps();
      Thread.sleep(1_000);
      sync.start();
      Thread.sleep(1_000);
      churn.close();

      long restartedAt = System.nanoTime();
      awaitMirrored(local, remote);
      Duration mirrored = Duration.ofNanos(System.nanoTime() - restartedAt);
      await().atMost(Duration.ofSeconds(30))
          .untilAsserted(() -> assertThat(reader.datapath.backends(Mesh.FRONTEND)).isEqualTo(Mesh.expected(shared)));
      Set<String> stillExported = shared.programmedEntries(Mesh.FRONTEND);
      assertThat(reader.datapath.removals(stillExported::contains))
          .as("removals by the cache-mode agent of entries the remote still exports").isEmpty();
      Figures.record("ProcessKillIT.kvstoreSync", "churn steps", churn.steps() + " (kill at step " + killedAtStep + ")");
      Figures.record("ProcessKillIT.kvstoreSync", "end of churn -> cache equals the remote's state key by key (poll 100 ms)", mirrored);
      Figures.record("ProcessKillIT.kvstoreSync", "wrong deletes at the cache-mode agent", "0 of " + reader.datapath.removals().size() + " removals");
    }
  }

  /** The cache of every kind holds exactly the remote's keys with the same values. */
  void awaitMirrored(Client local, Client remote) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
      for (Kind kind : Kind.values()) {
        Map<String, String> state = read(remote, KeyLayout.state().prefix(kind, SHARED));
        Map<String, String> cache = read(local, KeyLayout.cache(SHARED).prefix(kind, SHARED));
        assertThat(cache).as("cache of %s", kind.segment()).isEqualTo(state);
      }
    });
  }

  /** Key (below {@code prefix}) → value in hex. */
  static Map<String, String> read(Client client, String prefix) throws Exception {
    Map<String, String> out = new TreeMap<>();
    ByteSequence p = ByteSequence.from(prefix, StandardCharsets.UTF_8);
    for (KeyValue kv : client.getKVClient().get(p, GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs()) {
      out.put(kv.getKey().toString(StandardCharsets.UTF_8).substring(prefix.length()), HexFormat.of().formatHex(kv.getValue().getBytes()));
    }
    return out;
  }
}
