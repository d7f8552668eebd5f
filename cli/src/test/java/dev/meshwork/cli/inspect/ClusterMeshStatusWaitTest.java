package dev.meshwork.cli.inspect;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.BlogMesh;
import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.cli.testing.FakeAgent;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `meshwork clustermesh status --wait`: until every remote cluster is ready, or a timeout. */
class ClusterMeshStatusWaitTest {

  @TempDir Path dir;

  private static ClusterMeshStatus sharedCluster(boolean ready) {
    return ClusterMeshStatus.newBuilder().setLocalCluster(BlogMesh.TEST).setLocalClusterId(1).setSource("direct")
        .addRemotes(RemoteClusterStatus.newBuilder().setName(BlogMesh.SHARED).setId(2).setConnected(true)
            .setReady(ready).setStatus(ready ? "ready" : "waiting for synced canaries"))
        .build();
  }

  @Test
  void returnsAsSoonAsEveryRemoteIsReady() throws Exception {
    try (FakeAgent agent = FakeAgent.start(dir.resolve("agent.sock"))) {
      agent.clusterMesh = sharedCluster(false);

      CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() ->
          meshwork("clustermesh", "status", "--wait", "--wait-timeout", "60", "--socket", agent.socket().toString()));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> agent.calls() >= 1);
      assertThat(run).isNotDone();
      agent.clusterMesh = sharedCluster(true);

      CliRun done = run.get(30, TimeUnit.SECONDS);
      assertThat(done.exitCode()).as(done.err()).isZero();
      assertThat(done.out()).contains("Remote clusters: 1/1 ready");
    }
  }

  @Test
  void waitsForTheAgentToComeUp() throws Exception {
    Path socket = dir.resolve("late.sock");
    CompletableFuture<CliRun> run = CompletableFuture.supplyAsync(() ->
        meshwork("clustermesh", "status", "--wait", "--wait-timeout", "60", "--socket", socket.toString()));

    try (FakeAgent agent = FakeAgent.start(socket)) {
      agent.clusterMesh = sharedCluster(true);

      CliRun done = run.get(40, TimeUnit.SECONDS);
      assertThat(done.exitCode()).as(done.err()).isZero();
      assertThat(done.out()).contains("k8s-shared-cluster");
    }
  }

  @Test
  void timesOutNamingTheRemotesThatAreNotReady() throws Exception {
    try (FakeAgent agent = FakeAgent.start(dir.resolve("agent.sock"))) {
      agent.clusterMesh = sharedCluster(false);

      CliRun run = meshwork("clustermesh", "status", "--wait", "--wait-timeout", "1", "--socket", agent.socket().toString());

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.err()).isEqualTo(
          "meshwork: clustermesh not ready after 1 s: not ready: k8s-shared-cluster (waiting for synced canaries)\n");
    }
  }

  @Test
  void timesOutSayingTheAgentIsUnreachableWhenItNeverCameUp() {
    Path socket = dir.resolve("never.sock");

    CliRun run = meshwork("clustermesh", "status", "--wait", "--wait-timeout", "1", "--socket", socket.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("meshwork: clustermesh not ready after 1 s: cannot reach the agent at " + socket);
  }
}
