package dev.meshwork.e2e.reliability;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.e2e.blog.EchoConnection;
import dev.meshwork.e2e.sandbox.ManagedProcess;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The agent of the frontend's node (eBPF datapath) is SIGKILLed in the sandbox while a
 * cross-cluster TCP connection is open, and started again. The pinned maps and programs keep
 * carrying the connection while no agent runs, the restarted agent adopts them without dropping
 * it, and it programs the same backends as before.
 */
@Tag("privileged")
class AgentKillConnectionPrivilegedIT {
  private static final int ECHO_PORT = 4100;


  @Test
  void establishedConnectionSurvivesASigkilledAgentAndItsRestart() throws Exception {
    NetworkNamespaces.assumeRoot();
    try (BlogMesh mesh = BlogMesh.upWithBlogManifests("mwt-rel-", 50, 100)) {
      PodRecord backend = mesh.podRecords(SHARED, "backend").getFirst();
      PodRecord frontend = mesh.podRecords(TEST, "frontend").getFirst();
      String node = frontend.node();
      Set<String> programmedBefore = new TreeSet<>(mesh.programmedBackendIps(node));
      ManagedProcess agent = mesh.sandbox.agent(node);

      try (EchoConnection echo = EchoConnection.open(backend, frontend, ECHO_PORT)) {
        assertThat(echo.roundTrip("before", Duration.ofSeconds(10))).isEqualTo("before");

        long pid = agent.pid();
        agent.kill();
        assertThat(ProcessHandle.of(pid)).as("agent pid %d after SIGKILL", pid).isEmpty();
        long down = System.nanoTime();
        assertThat(echo.roundTrip("no agent", Duration.ofSeconds(10))).as("a round trip while no agent runs").isEqualTo("no agent");
        Duration roundTripWithoutAgent = Duration.ofNanos(System.nanoTime() - down);

        long restarted = System.nanoTime();
        agent.start();
        await("the restarted agent sees every cluster ready").atMost(Duration.ofSeconds(120))
            .pollInterval(Duration.ofMillis(200)).until(() -> mesh.agentReady(node));
        Duration ready = Duration.ofNanos(System.nanoTime() - restarted);
        assertThat(echo.roundTrip("after", Duration.ofSeconds(10))).isEqualTo("after");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(mesh.programmedBackendIps(node)).isEqualTo(programmedBefore));
        assertThat(mesh.request()).as("a new request after the restart").isPresent();

        Figures.record("AgentKillConnectionPrivilegedIT", "round trip on the established connection while no agent runs", roundTripWithoutAgent);
        Figures.record("AgentKillConnectionPrivilegedIT", "start -> restarted agent ready (every cluster listed)", ready);
      }
    }
  }
}
