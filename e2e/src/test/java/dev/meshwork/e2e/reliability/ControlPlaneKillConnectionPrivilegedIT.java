package dev.meshwork.e2e.reliability;

import static dev.meshwork.e2e.blog.BlogMesh.SHARED;
import static dev.meshwork.e2e.blog.BlogMesh.TEST;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.e2e.blog.BlogMesh;
import dev.meshwork.e2e.blog.EchoConnection;
import dev.meshwork.e2e.sandbox.ManagedProcess;
import dev.meshwork.e2e.sandbox.MeshSpec;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.testing.netns.NetworkNamespaces;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blog's mesh in the sandbox in cache mode (a meshwork-kvstore-sync per cluster, agents reading
 * its mirror in their local etcd). While the shared backend Deployment is scaled between 2 and 3
 * every few seconds, the shared cluster's operator and the test cluster's kvstore-sync are
 * SIGKILLed and started again. Neither is on the packet path: an established cross-cluster TCP
 * connection carries a round trip every 500 ms throughout. Nor may their crash cost state: a
 * shared backend that still exists at the end is never missing from the test-cluster agent once
 * it was programmed (watched for longer than the 60 s lease the killed processes wrote on), and at
 * the end the agent programs exactly the live backends, each once.
 */
@Tag("privileged")
class ControlPlaneKillConnectionPrivilegedIT {
  private static final int ECHO_PORT = 4100;
  private static final Duration ROUND_TRIP_EVERY = Duration.ofMillis(500);
  private static final Duration ROUND_TRIP_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration CHURN_STEP = Duration.ofSeconds(4);
  private static final Duration DOWN = Duration.ofSeconds(3);
  /** Longer than the 60 s lease of the killed processes' keys: a key left on the old lease would expire meanwhile. */
  private static final Duration WATCH_AFTER_RESTART = Duration.ofSeconds(70);

  /** What the test-cluster agent programmed for backend-svc, and which backend pods were Ready, at one moment. */
  private record Sample(long nanos, List<String> programmed, Map<String, String> readyPods) {}

  @Test
  void sigkilledOperatorAndKvstoreSyncMidChurnDropNoConnectionAndNoLiveBackend() throws Exception {
    NetworkNamespaces.assumeRoot();
    try (BlogMesh mesh = BlogMesh.upWithBlogManifests("mwt-flt-", 100, 141, MeshSpec.ClustermeshSource.CACHE)) {
      PodRecord backend = mesh.podRecords(SHARED, "backend").getFirst();
      PodRecord frontend = mesh.podRecords(TEST, "frontend").getFirst();
      String node = frontend.node();
      await("backend-svc programmed from kvstore-sync's mirror").atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(200))
          .until(() -> Set.copyOf(mesh.backendSvcBackendIps(node)).equals(mesh.readyBackendIps()));

      try (EchoConnection echo = EchoConnection.open(backend, frontend, ECHO_PORT)) {
        assertThat(echo.roundTrip("before", ROUND_TRIP_TIMEOUT)).isEqualTo("before");
        long started = System.nanoTime();
        List<Sample> samples = new CopyOnWriteArrayList<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicInteger roundTrips = new AtomicInteger();
        AtomicInteger churnSteps = new AtomicInteger();
        Background sampler = Background.every("sampler", Duration.ofMillis(250), () ->
            samples.add(new Sample(System.nanoTime(), mesh.backendSvcBackendIps(node), readyPods(mesh))));
        Background roundTripper = Background.every("round trips", ROUND_TRIP_EVERY, () -> {
          String line = "round trip " + (roundTrips.get() + 1);
          try {
            if (echo.roundTrip(line, ROUND_TRIP_TIMEOUT).equals(line)) {
              roundTrips.incrementAndGet();
            } else {
              failures.add(line + at(started) + ": wrong echo");
            }
          } catch (Exception e) {
            failures.add(line + at(started) + ": " + e);
          }
        });
        Background churn = Background.every("churn", CHURN_STEP,
            () -> mesh.scaleBackends(churnSteps.incrementAndGet() % 2 == 1 ? 3 : 2));

        Thread.sleep(2 * CHURN_STEP.toMillis());
        ManagedProcess operator = mesh.sandbox.operator(SHARED);
        ManagedProcess kvstoreSync = mesh.sandbox.kvstoreSync(TEST);
        long operatorPid = operator.pid();
        long kvstoreSyncPid = kvstoreSync.pid();
        operator.kill();
        kvstoreSync.kill();
        int killedAtStep = churnSteps.get();
        System.out.println("[reliability] SIGKILLed the shared operator (pid " + operatorPid + ") and the test cluster's"
            + " kvstore-sync (pid " + kvstoreSyncPid + ") at " + java.time.Instant.now() + at(started));
        assertThat(ProcessHandle.of(operatorPid)).as("shared operator pid %d after SIGKILL", operatorPid).isEmpty();
        assertThat(ProcessHandle.of(kvstoreSyncPid)).as("test kvstore-sync pid %d after SIGKILL", kvstoreSyncPid)
            .isEmpty();
        Thread.sleep(DOWN.toMillis());
        operator.start();
        kvstoreSync.start();
        long restarted = System.nanoTime();
        System.out.println("[reliability] restarted both at " + java.time.Instant.now() + at(started));
        Thread.sleep(WATCH_AFTER_RESTART.toMillis());
        churn.close();
        mesh.scaleBackends(3);
        long churnEnded = System.nanoTime();

        await("the test-cluster agent programs exactly the live backends, each once").atMost(Duration.ofSeconds(180))
            .pollInterval(Duration.ofMillis(200))
            .until(() -> {
              Set<String> ready = mesh.readyBackendIps();
              List<String> programmed = mesh.backendSvcBackendIps(node);
              return mesh.podNames(SHARED, "backend").size() == 3 && ready.size() == 3
                  && programmed.size() == 3 && Set.copyOf(programmed).equals(ready);
            });
        Duration converged = Duration.ofNanos(System.nanoTime() - churnEnded);
        sampler.close();
        roundTripper.close();

        List<String> wronglyMissing = liveBackendsMissingAfterProgrammed(samples, readyPods(mesh), started);
        assertThat(failures).as("round trips on the established connection").isEmpty();
        assertThat(roundTrips.get()).as("round trips made").isPositive();
        assertThat(wronglyMissing).as("live backends missing from the test-cluster agent after it had programmed them")
            .isEmpty();
        assertThat(operator.running()).as("restarted operator").isTrue();
        assertThat(kvstoreSync.running()).as("restarted kvstore-sync").isTrue();
        for (int i = 0; i < 3; i++) {
          assertThat(mesh.request()).as("new request %d after the restarts", i + 1).isPresent();
        }
        assertThat(echo.roundTrip("after", ROUND_TRIP_TIMEOUT)).isEqualTo("after");

        String test = "ControlPlaneKillConnectionPrivilegedIT";
        Figures.record(test, "churn steps (backend scaled 2 <-> 3 every " + CHURN_STEP.toSeconds() + " s)",
            churnSteps.get() + " (SIGKILL at step " + killedAtStep + ", restart after " + DOWN.toSeconds() + " s, "
                + WATCH_AFTER_RESTART.toSeconds() + " s more churn)");
        Figures.record(test, "round trips on the established connection (every 500 ms), failed",
            roundTrips.get() + ", " + failures.size());
        Figures.record(test, "LB samples of the test-cluster agent (every 250 ms), live backends missing",
            samples.size() + ", " + wronglyMissing.size());
        Figures.record(test, "end of churn -> exactly the live backends, each once", converged);
        Figures.record(test, "restart -> end of churn", Duration.ofNanos(churnEnded - restarted));
      }
    }
  }

  /** The shared cluster's Ready backend pods: name → IP. */
  private static Map<String, String> readyPods(BlogMesh mesh) {
    Set<String> ready = mesh.readyBackendIps();
    Map<String, String> pods = new TreeMap<>();
    for (Pod pod : mesh.pods(SHARED, "backend")) {
      String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
      if (ip != null && ready.contains(ip)) {
        pods.put(pod.getMetadata().getName(), ip);
      }
    }
    return pods;
  }

  /**
   * Every pod still Ready at the end must stay programmed from the first sample that shows it
   * Ready and programmed; keyed by pod name, so an IP reused by a later pod is not confused with
   * the earlier one.
   */
  private static List<String> liveBackendsMissingAfterProgrammed(List<Sample> samples, Map<String, String> live,
      long started) {
    List<String> missing = new ArrayList<>();
    for (Map.Entry<String, String> pod : live.entrySet()) {
      boolean programmed = false;
      for (Sample s : samples) {
        boolean shown = s.programmed().contains(pod.getValue());
        if (!programmed) {
          programmed = shown && pod.getValue().equals(s.readyPods().get(pod.getKey()));
        } else if (!shown) {
          missing.add("pod " + pod.getKey() + " (" + pod.getValue() + ")" + at(started, s.nanos()));
        }
      }
    }
    return missing;
  }

  private static String at(long started) {
    return at(started, System.nanoTime());
  }

  private static String at(long started, long nanos) {
    return String.format(" at %.1f s", (nanos - started) / 1e9);
  }

  /** A task repeated at a fixed delay on a thread of its own until closed; its exceptions fail the test. */
  private static final class Background implements AutoCloseable {
    interface Task {
      void run() throws Exception;
    }

    private final Thread thread;
    private volatile boolean stopped;
    private volatile Throwable failure;

    private Background(String name, Duration every, Task task) {
      this.thread = Thread.ofPlatform().name(name).daemon().unstarted(() -> {
        while (!stopped) {
          try {
            task.run();
            Thread.sleep(every.toMillis());
          } catch (InterruptedException e) {
            return;
          } catch (Throwable t) {
            failure = t;
            return;
          }
        }
      });
    }

    static Background every(String name, Duration every, Task task) {
      Background background = new Background(name, every, task);
      background.thread.start();
      return background;
    }

    @Override
    public void close() throws InterruptedException {
      stopped = true;
      thread.join(30_000);
      if (failure != null) {
        throw new AssertionError(thread.getName() + " failed", failure);
      }
    }
  }
}
