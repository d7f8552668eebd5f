package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote cluster's etcd goes down while its operator keeps changing the cluster. The agent keeps
 * every remote backend programmed for the whole outage, and once the etcd is back the changes made
 * meanwhile reach the datapath.
 *
 * <p>The outage lasts {@code -Dmeshwork.reliability.outage} (default 10 s so the suite fits CI;
 * the figure in docs/reliability.md is from a 60 s run).
 */
class RemoteEtcdOutageIT {
  static final Duration OUTAGE = Figures.durationProperty("meshwork.reliability.outage", Duration.ofSeconds(10));

  @RegisterExtension static final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension sharedEtcd = EtcdExtension.plain();

  @TempDir Path tmp;
  Mesh mesh;

  @AfterEach
  void tearDown() throws Exception {
    if (mesh != null) mesh.close();
  }

  @Test
  void keepsEveryRemoteBackendWhileRemoteEtcdIsDownAndConvergesOnChangesMadeMeanwhile() throws Exception {
    mesh = new Mesh(tmp, localEtcd);
    RemoteCluster shared = mesh.remote(sharedEtcd, "k8s-shared-cluster", 2, 3, 4);
    InProcessAgent agent = mesh.agent(ClusterMesh.Source.DIRECT);
    SortedSet<String> before = Mesh.expected(shared);
    await().atMost(Duration.ofSeconds(30))
        .untilAsserted(() -> assertThat(agent.datapath.backends(Mesh.FRONTEND)).isEqualTo(before));
    agent.datapath.clearLog();

    sharedEtcd.stop();
    long downAt = System.nanoTime();
    // The operator keeps working: a node's pods are replaced while its etcd is away.
    shared.removeBackend(shared.podIp(1, 1));
    shared.removeBackend(shared.podIp(1, 2));
    shared.addBackend(shared.podIp(1, 101), 1);
    shared.addBackend(shared.podIp(2, 102), 2);
    shared.publishService();
    List<Integer> programmedDuringOutage = new ArrayList<>();
    while (System.nanoTime() - downAt < OUTAGE.toNanos()) {
      programmedDuringOutage.add(agent.datapath.backends(Mesh.FRONTEND).size());
      Thread.sleep(200);
    }
    assertThat(agent.datapath.removals())
        .as("nothing removed from the datapath during a %s remote etcd outage", OUTAGE)
        .isEmpty();
    assertThat(programmedDuringOutage).as("backends programmed, sampled every 200 ms").containsOnly(before.size());

    long upAt = System.nanoTime();
    sharedEtcd.start();
    SortedSet<String> after = Mesh.expected(shared);
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .untilAsserted(() -> assertThat(agent.datapath.backends(Mesh.FRONTEND)).isEqualTo(after));
    Duration converged = Duration.ofNanos(agent.datapath.lastAppliedNanos() - upAt);

    assertThat(agent.datapath.removals(r -> r.startsWith("backend")))
        .as("only the two backends deleted meanwhile are removed")
        .containsExactlyInAnyOrder(
            "backend " + shared.podIp(1, 1) + ":8080/TCP of " + Mesh.FRONTEND,
            "backend " + shared.podIp(1, 2) + ":8080/TCP of " + Mesh.FRONTEND);
    Figures.record("RemoteEtcdOutageIT", "outage", OUTAGE);
    Figures.record("RemoteEtcdOutageIT", "remote backends removed during the outage", "0 of " + before.size());
    Figures.record("RemoteEtcdOutageIT", "etcd start -> datapath converged on the changes made meanwhile", converged);
  }
}
