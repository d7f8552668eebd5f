package dev.meshwork.e2e.reliability;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.e2e.blog.EchoConnection;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import dev.meshwork.testing.process.Command;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blog's mesh in the sandbox: the shared cluster's nodes lose the underlay (eth0 down in their
 * namespaces) for {@code -Dmeshwork.reliability.partition} (default 10 s) and get it back. The
 * test cluster's agent keeps both shared backends programmed throughout; an established TCP
 * connection frontend → backend pod carries a line written during the partition once it heals;
 * new requests to backend-svc succeed again.
 */
@Tag("privileged")
class UnderlayPartitionPrivilegedIT {
  private static final int ECHO_PORT = 4100;

  static final Duration PARTITION = Figures.durationProperty("meshwork.reliability.partition", Duration.ofSeconds(10));

  @Test
  void sharedClusterCutOffFromTheUnderlayAndHealedKeepsBackendsAndTheEstablishedConnection() throws Exception {
    NetworkNamespaces.assumeRoot();
    try (BlogMesh mesh = BlogMesh.upWithBlogManifests("mwt-rel-", 50, 100)) {
      List<PodRecord> backends = mesh.podRecords(SHARED, "backend");
      PodRecord frontend = mesh.podRecords(TEST, "frontend").getFirst();
      Set<String> backendIps = new TreeSet<>();
      backends.forEach(b -> backendIps.add(b.ip()));
      assertThat(mesh.programmedBackendIps(frontend.node())).containsAll(backendIps);

      List<String> sharedNodes = mesh.sandbox.mesh().cluster(SHARED).nodes();
      try (EchoConnection echo = EchoConnection.open(backends.getFirst(), frontend, ECHO_PORT)) {
        assertThat(echo.roundTrip("before", Duration.ofSeconds(10))).isEqualTo("before");

        for (String node : sharedNodes) Command.check("ip", "-n", mesh.prefix + "-" + node, "link", "set", "eth0", "down");
        long cut = System.nanoTime();
        CompletableFuture<String> duringPartition = echo.send("during the partition");
        assertThat(mesh.request()).as("a request while the shared cluster is unreachable").isEmpty();
        List<Integer> programmed = new ArrayList<>();
        while (System.nanoTime() - cut < PARTITION.toNanos()) {
          programmed.add((int) mesh.programmedBackendIps(frontend.node()).stream().filter(backendIps::contains).count());
          Thread.sleep(500);
        }
        assertThat(programmed).as("shared backends programmed in the test cluster's agent, every 500 ms")
            .containsOnly(backendIps.size());

        for (String node : sharedNodes) Command.check("ip", "-n", mesh.prefix + "-" + node, "link", "set", "eth0", "up");
        long healed = System.nanoTime();
        assertThat(duringPartition.get(60, TimeUnit.SECONDS)).as("the line written during the partition")
            .isEqualTo("during the partition");
        Duration echoed = Duration.ofNanos(System.nanoTime() - healed);
        await("a new request answered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
            .until(() -> mesh.request().isPresent());
        Duration answered = Duration.ofNanos(System.nanoTime() - healed);
        assertThat(echo.roundTrip("after", Duration.ofSeconds(10))).isEqualTo("after");

        Figures.record("UnderlayPartitionPrivilegedIT", "partition", PARTITION);
        Figures.record("UnderlayPartitionPrivilegedIT", "shared backends removed in the test cluster's agent", "0 of " + backendIps.size());
        Figures.record("UnderlayPartitionPrivilegedIT", "heal -> line written during the partition echoed (TCP retransmission)", echoed);
        Figures.record("UnderlayPartitionPrivilegedIT", "heal -> first new request to backend-svc answered", answered);
      }
    }
  }
}
