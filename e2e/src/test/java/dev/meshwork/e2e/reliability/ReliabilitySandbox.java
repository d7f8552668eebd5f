package dev.meshwork.e2e.reliability;

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
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The blog's mesh in a sandbox of this suite's own (namespaces {@code mwt-rel-<hex>-*}, underlay
 * 198.19.{50..99}.0/24, run directory /tmp/mwt-rel-<hex>) with the blog's manifests applied, and
 * what the packet-level cases do with it. (The scenario tests' {@code BlogMesh} is package-private
 * in another package and uses the {@code mwt-sbx-} prefix.)
 */
final class ReliabilitySandbox implements AutoCloseable {
  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final String NS = "testing";
  static final String URL = "http://backend-svc.testing.svc.cluster.local";

  final Sandbox sandbox;
  final String prefix;

  private ReliabilitySandbox(Sandbox sandbox, String prefix) {
    this.sandbox = sandbox;
    this.prefix = prefix;
  }

  static ReliabilitySandbox up() throws Exception {
    String prefix = "mwt-rel-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    IpPrefix underlay = IpPrefix.parse("198.19." + ThreadLocalRandom.current().nextInt(50, 100) + ".0/24");
    Path home = SandboxCli.home();
    Sandbox sandbox = Sandbox.up(MeshSpec.blog(underlay), new RunDir(Path.of("/tmp", prefix)), prefix, home,
        line -> System.out.println("sandbox " + prefix + ": " + line));
    ReliabilitySandbox mesh = new ReliabilitySandbox(sandbox, prefix);
    try {
      Manifests.apply(sandbox.client(SHARED), home.resolve("examples/blog/k8s-shared-cluster.yaml"));
      Manifests.apply(sandbox.client(TEST), home.resolve("examples/blog/k8s-test-cluster.yaml"));
      await("a first answer from backend-svc").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> mesh.request().isPresent());
      return mesh;
    } catch (Exception | AssertionError e) {
      mesh.close();
      throw e;
    }
  }

  /** One request from a test-cluster frontend to backend-svc: the answering pod's name, or empty. */
  Optional<String> request() throws Exception {
    Sandbox.ExecResult result = sandbox.exec(TEST, NS, "frontend", Duration.ofSeconds(5),
        "timeout", "3", "busybox", "wget", "-q", "-O", "-", URL);
    return result.ok() && !result.output().isBlank() ? Optional.of(result.output().strip()) : Optional.empty();
  }

  List<PodRecord> pods(String cluster, String app) {
    return sandbox.client(cluster).pods().inNamespace(NS).withLabel("app", app).list().getItems().stream()
        .map(p -> PodRecord.read(sandbox.runDir().pods(cluster), NS, p.getMetadata().getName())
            .orElseThrow(() -> new AssertionError("no pod record for " + cluster + "/" + p.getMetadata().getName())))
        .sorted(Comparator.comparing(PodRecord::name)).toList();
  }

  /** Backend IPs in a node's agent's load-balancer entries (all services). */
  Set<String> programmedBackendIps(String node) {
    try (AgentConnection connection = AgentConnection.open(sandbox.agentSocket(node))) {
      Set<String> ips = new TreeSet<>();
      connection.inspection().listLoadBalancerEntries(ListRequest.getDefaultInstance()).getEntriesList().stream()
          .filter(e -> e.getSlot() > 0)
          .forEach(e -> ips.add(e.getBackendAddress().substring(0, e.getBackendAddress().indexOf(':'))));
      return ips;
    }
  }

  /** True when the node's agent answers and reports every remote cluster ready. */
  boolean agentReady(String node) {
    try (AgentConnection connection = AgentConnection.open(sandbox.agentSocket(node))) {
      var remotes = connection.inspection().getClusterMeshStatus(ListRequest.getDefaultInstance()).getRemotesList();
      return !remotes.isEmpty() && remotes.stream().allMatch(r -> r.getReady());
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void close() {
    sandbox.close();
  }

  /** A TCP connection from a frontend pod straight to a backend pod's IP, to an echo server in that pod. */
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

    /** Writes a line; the future completes with the line echoed back. */
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
