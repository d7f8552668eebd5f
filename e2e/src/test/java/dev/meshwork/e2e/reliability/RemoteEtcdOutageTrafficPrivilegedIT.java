package dev.meshwork.e2e.reliability;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.e2e.blog.EchoConnection;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blog's mesh in the sandbox (direct mode): the shared cluster's etcd is stopped for {@code
 * -Dmeshwork.reliability.outage} (default 60 s, the figure). Throughout, a frontend pod
 * sends a new request to backend-svc every 2 s and an established frontend → backend-pod TCP
 * connection carries a round trip; every one succeeds, and every test-cluster agent keeps both
 * shared backends. Halfway through, the backend Deployment is scaled to 3 (Kubernetes works, the
 * shared operator cannot write its etcd); once the etcd is back the new backend reaches the test
 * cluster's agents, and a scale back to 2 made after the restart converges too.
 */
@Tag("privileged")
class RemoteEtcdOutageTrafficPrivilegedIT {
  private static final int ECHO_PORT = 4100;
  private static final Duration REQUEST_EVERY = Duration.ofSeconds(2);
  private static final Duration ROUND_TRIP_TIMEOUT = Duration.ofSeconds(10);
  static final Duration OUTAGE = Figures.durationProperty("meshwork.reliability.outage", Duration.ofSeconds(60));

  @Test
  void trafficToTheSharedClusterFlowsForTheWholeEtcdOutageAndChangesConvergeAfterIt() throws Exception {
    NetworkNamespaces.assumeRoot();
    try (BlogMesh mesh = BlogMesh.upWithBlogManifests("mwt-flt-", 100, 141)) {
      List<PodRecord> backends = mesh.podRecords(SHARED, "backend");
      PodRecord frontend = mesh.podRecords(TEST, "frontend").getFirst();
      List<String> testNodes = mesh.sandbox.mesh().cluster(TEST).nodes();
      Set<String> backendIps = new TreeSet<>(backends.stream().map(PodRecord::ip).toList());
      await("both shared backends programmed on every test-cluster node").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> testNodes.stream().allMatch(n -> Set.copyOf(mesh.backendSvcBackendIps(n)).equals(backendIps)));

      try (EchoConnection echo = EchoConnection.open(backends.getFirst(), frontend, ECHO_PORT)) {
        assertThat(echo.roundTrip("before", ROUND_TRIP_TIMEOUT)).isEqualTo("before");

        mesh.sandbox.etcd(SHARED).stop(5_000);
        long down = System.nanoTime();
        int requests = 0;
        int answered = 0;
        int roundTrips = 0;
        List<String> failures = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        Set<String> answeredBy = new TreeSet<>();
        boolean scaled = false;
        try {
          while (System.nanoTime() - down < OUTAGE.toNanos()) {
            long tick = System.nanoTime();
            String at = String.format("at %.1f s", (tick - down) / 1e9);
            requests++;
            var answer = mesh.request();
            if (answer.isPresent()) {
              answered++;
              answeredBy.add(answer.get());
            } else {
              failures.add("request " + requests + " " + at + " got no answer");
            }
            String line = "round trip " + (roundTrips + 1);
            try {
              if (echo.roundTrip(line, ROUND_TRIP_TIMEOUT).equals(line)) {
                roundTrips++;
              } else {
                failures.add(line + " " + at + ": wrong echo");
              }
            } catch (Exception e) {
              failures.add(line + " " + at + ": " + e);
            }
            for (String node : testNodes) {
              kept.add((int) mesh.backendSvcBackendIps(node).stream().filter(backendIps::contains).count());
            }
            if (!scaled && System.nanoTime() - down > OUTAGE.toNanos() / 2) {
              mesh.scaleBackends(3); // Kubernetes works on; the shared operator cannot write its etcd
              scaled = true;
            }
            Thread.sleep(Math.max(0, REQUEST_EVERY.toMillis() - (System.nanoTime() - tick) / 1_000_000));
          }
        } finally {
          mesh.sandbox.restartEtcd(SHARED);
        }
        long back = System.nanoTime();
        assertThat(failures).as("requests and round trips that failed during the %s outage", OUTAGE).isEmpty();
        assertThat(kept).as("shared backends programmed on each test-cluster node, every %s", REQUEST_EVERY)
            .containsOnly(backendIps.size());
        assertThat(backends).extracting(PodRecord::name).as("every answer came from a shared backend pod")
            .containsAll(answeredBy);

        // The backend added during the outage reaches the test cluster; the first two are never dropped.
        Set<String> droppedAfterRestart = new HashSet<>();
        AtomicInteger polls = new AtomicInteger();
        await("the backend added during the outage programmed on every test-cluster node")
            .atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200))
            .until(() -> {
              polls.incrementAndGet();
              Set<String> ready = mesh.readyBackendIps();
              boolean converged = ready.size() == 3;
              for (String node : testNodes) {
                List<String> programmed = mesh.backendSvcBackendIps(node);
                backendIps.stream().filter(ip -> !programmed.contains(ip)).forEach(droppedAfterRestart::add);
                converged &= programmed.size() == ready.size() && Set.copyOf(programmed).equals(ready);
              }
              return converged;
            });
        Duration addedConverged = Duration.ofNanos(System.nanoTime() - back);

        long scaledDown = System.nanoTime();
        mesh.scaleBackends(2);
        await("the scale back to 2 made after the restart programmed on every test-cluster node")
            .atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200))
            .until(() -> {
              Set<String> ready = mesh.readyBackendIps();
              boolean converged = mesh.podNames(SHARED, "backend").size() == 2 && ready.size() == 2;
              for (String node : testNodes) {
                List<String> programmed = mesh.backendSvcBackendIps(node);
                backendIps.stream().filter(ip -> !programmed.contains(ip)).forEach(droppedAfterRestart::add);
                converged &= programmed.size() == ready.size() && Set.copyOf(programmed).equals(ready);
              }
              return converged;
            });
        Duration removedConverged = Duration.ofNanos(System.nanoTime() - scaledDown);
        assertThat(droppedAfterRestart).as("original backends missing from a test-cluster agent after the restart")
            .isEmpty();
        assertThat(echo.roundTrip("after", ROUND_TRIP_TIMEOUT)).isEqualTo("after");
        assertThat(mesh.request()).as("a new request after the outage").isPresent();

        String test = "RemoteEtcdOutageTrafficPrivilegedIT";
        Figures.record(test, "outage of the shared cluster's etcd", OUTAGE);
        Figures.record(test, "new requests to backend-svc during the outage (answered / attempted)",
            answered + " / " + requests + " (answered by " + answeredBy + ")");
        Figures.record(test, "round trips on the established connection during the outage", Integer.toString(roundTrips));
        Figures.record(test, "shared backends kept on the test-cluster agents during the outage",
            backendIps.size() + " of " + backendIps.size() + " in all " + kept.size() + " samples ("
                + testNodes.size() + " nodes)");
        Figures.record(test, "etcd back -> backend added during the outage programmed on every test-cluster node",
            addedConverged);
        Figures.record(test, "scale to 2 after the restart -> programmed on every test-cluster node", removedConverged);
      }
    }
  }
}
