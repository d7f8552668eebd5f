package dev.meshwork.e2e.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.cli.agent.AgentConnection;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.e2e.sandbox.Manifests;
import dev.meshwork.e2e.sandbox.MeshSpec;
import dev.meshwork.e2e.sandbox.RunDir;
import dev.meshwork.e2e.sandbox.Sandbox;
import dev.meshwork.e2e.sandbox.SandboxCli;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.testing.netns.NetworkNamespaces;
import dev.meshwork.testing.process.Command;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The blog's mesh in the sandbox (namespaces {@code mwt-rel-<hex>-*}, underlay
 * 198.19.{50..99}.0/24): the shared cluster's nodes lose the underlay (eth0 down in their
 * namespaces) for {@code -Dmeshwork.reliability.partition} (default 10 s) and get it back. The
 * test cluster's agent keeps both shared backends programmed throughout; an established TCP
 * connection frontend → backend pod carries a line written during the partition once it heals;
 * new requests to backend-svc succeed again.
 */
@Tag("privileged")
class UnderlayPartitionPrivilegedIT {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final String NS = "testing";
  static final String URL = "http://backend-svc.testing.svc.cluster.local";
  static final Duration PARTITION = Figures.durationProperty("meshwork.reliability.partition", Duration.ofSeconds(10));

  @Test
  void sharedClusterCutOffFromTheUnderlayAndHealedKeepsBackendsAndTheEstablishedConnection() throws Exception {
    NetworkNamespaces.assumeRoot();
    String prefix = "mwt-rel-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    IpPrefix underlay = IpPrefix.parse("198.19." + ThreadLocalRandom.current().nextInt(50, 100) + ".0/24");
    Path home = SandboxCli.home();
    try (Sandbox sandbox = Sandbox.up(MeshSpec.blog(underlay), new RunDir(Path.of("/tmp", prefix)), prefix, home,
        line -> System.out.println("sandbox " + prefix + ": " + line))) {
      Manifests.apply(sandbox.client(SHARED), home.resolve("examples/blog/k8s-shared-cluster.yaml"));
      Manifests.apply(sandbox.client(TEST), home.resolve("examples/blog/k8s-test-cluster.yaml"));
      await("a first answer from backend-svc").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> request(sandbox).isPresent());

      List<PodRecord> backends = pods(sandbox, SHARED, "backend");
      PodRecord frontend = pods(sandbox, TEST, "frontend").getFirst();
      Set<String> backendIps = new TreeSet<>();
      backends.forEach(b -> backendIps.add(b.ip()));
      Path socket = sandbox.agentSocket(frontend.node());
      assertThat(programmedBackendIps(socket)).containsAll(backendIps);

      List<String> sharedNodes = sandbox.mesh().cluster(SHARED).nodes();
      try (Echo echo = Echo.open(backends.getFirst(), frontend)) {
        assertThat(echo.roundTrip("before", Duration.ofSeconds(10))).isEqualTo("before");

        for (String node : sharedNodes) Command.check("ip", "-n", prefix + "-" + node, "link", "set", "eth0", "down");
        long cut = System.nanoTime();
        CompletableFuture<String> duringPartition = echo.send("during the partition");
        assertThat(request(sandbox)).as("a request while the shared cluster is unreachable").isEmpty();
        List<Integer> programmed = new ArrayList<>();
        while (System.nanoTime() - cut < PARTITION.toNanos()) {
          programmed.add((int) programmedBackendIps(socket).stream().filter(backendIps::contains).count());
          Thread.sleep(500);
        }
        assertThat(programmed).as("shared backends programmed in the test cluster's agent, every 500 ms").containsOnly(backendIps.size());

        for (String node : sharedNodes) Command.check("ip", "-n", prefix + "-" + node, "link", "set", "eth0", "up");
        long healed = System.nanoTime();
        assertThat(duringPartition.get(60, TimeUnit.SECONDS)).as("the line written during the partition").isEqualTo("during the partition");
        Duration echoed = Duration.ofNanos(System.nanoTime() - healed);
        await("a new request answered").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100))
            .until(() -> request(sandbox).isPresent());
        Duration answered = Duration.ofNanos(System.nanoTime() - healed);
        assertThat(echo.roundTrip("after", Duration.ofSeconds(10))).isEqualTo("after");

        Figures.record("UnderlayPartitionPrivilegedIT", "partition", PARTITION);
        Figures.record("UnderlayPartitionPrivilegedIT", "shared backends removed in the test cluster's agent", "0 of " + backendIps.size());
        Figures.record("UnderlayPartitionPrivilegedIT", "heal -> line written during the partition echoed (TCP retransmission)", echoed);
        Figures.record("UnderlayPartitionPrivilegedIT", "heal -> first new request to backend-svc answered", answered);
      }
    }
  }

  static Optional<String> request(Sandbox sandbox) throws Exception {
    Sandbox.ExecResult result = sandbox.exec(TEST, NS, "frontend", Duration.ofSeconds(5),
        "timeout", "3", "busybox", "wget", "-q", "-O", "-", URL);
    return result.ok() && !result.output().isBlank() ? Optional.of(result.output().strip()) : Optional.empty();
  }

  static List<PodRecord> pods(Sandbox sandbox, String cluster, String app) {
    return sandbox.client(cluster).pods().inNamespace(NS).withLabel("app", app).list().getItems().stream()
        .map(p -> PodRecord.read(sandbox.runDir().pods(cluster), NS, p.getMetadata().getName())
            .orElseThrow(() -> new AssertionError("no pod record for " + cluster + "/" + p.getMetadata().getName())))
        .sorted(java.util.Comparator.comparing(PodRecord::name)).toList();
  }

  /** Backend IPs in the agent's load-balancer entries (all services). */
  static Set<String> programmedBackendIps(Path socket) {
    try (AgentConnection connection = AgentConnection.open(socket)) {
      Set<String> ips = new TreeSet<>();
      connection.inspection().listLoadBalancerEntries(ListRequest.getDefaultInstance()).getEntriesList().stream()
          .filter(e -> e.getSlot() > 0)
          .forEach(e -> ips.add(e.getBackendAddress().substring(0, e.getBackendAddress().indexOf(':'))));
      return ips;
    }
  }

  /** A TCP connection from the frontend pod straight to a backend pod's IP, to an echo server in that pod. */
  static final class Echo implements AutoCloseable {
    static final int PORT = 4100;
    private final Process server;
    private final Process client;
    private final BufferedReader in;
    private final OutputStream out;

    private Echo(Process server, Process client) {
      this.server = server;
      this.client = client;
      this.in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
      this.out = client.getOutputStream();
    }

    static Echo open(PodRecord backend, PodRecord frontend) throws Exception {
      Process server = new ProcessBuilder("ip", "netns", "exec", backend.netns(), "busybox", "nc", "-ll", "-p",
          Integer.toString(PORT), "-e", "/bin/cat").redirectErrorStream(true).start();
      Thread.sleep(300);
      Process client = new ProcessBuilder("ip", "netns", "exec", frontend.netns(), "busybox", "nc", backend.ip(),
          Integer.toString(PORT)).redirectErrorStream(true).start();
      return new Echo(server, client);
    }

    CompletableFuture<String> send(String line) throws Exception {
      out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
      out.flush();
      return CompletableFuture.supplyAsync(() -> {
        try {
          return in.readLine();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    }

    String roundTrip(String line, Duration timeout) throws Exception {
      return send(line).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      client.destroyForcibly().waitFor();
      server.destroyForcibly().waitFor();
    }
  }
}
