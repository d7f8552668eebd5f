package dev.meshwork.e2e.blog;

import static org.awaitility.Awaitility.await;

import dev.meshwork.cli.MeshworkCli;
import dev.meshwork.cli.agent.AgentConnection;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.e2e.sandbox.Manifests;
import dev.meshwork.e2e.sandbox.MeshSpec;
import dev.meshwork.e2e.sandbox.RunDir;
import dev.meshwork.e2e.sandbox.Sandbox;
import dev.meshwork.e2e.sandbox.SandboxCli;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import dev.meshwork.proto.v1.ListRequest;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The blog's mesh in a sandbox of a test's own (namespaces and links {@code <prefix>-*}, an
 * underlay /24 in 198.19.0.0/16, a run directory {@code /tmp/<prefix>}), with the blog's manifests
 * applied: the shared cluster's two backends behind the global {@code backend-svc}, the test
 * cluster's two frontends. Shared by the scenario and the reliability tests.
 */
public final class BlogMesh implements AutoCloseable {

  public static final String TEST = "k8s-test-cluster";
  public static final String SHARED = "k8s-shared-cluster";
  /** The cluster the blog's policy admits; only in {@link #upThreeClustersWithBlogManifests}. */
  public static final String PRODUCTION = "k8s-production-cluster";
  public static final String NAMESPACE = "testing";
  public static final String BACKEND_URL = "http://backend-svc.testing.svc.cluster.local";

  public final Sandbox sandbox;
  /** The prefix of this mesh's namespaces: node {@code n} lives in {@code <prefix>-n}. */
  public final String prefix;
  private final Path home;

  private BlogMesh(Sandbox sandbox, String prefix, Path home) {
    this.sandbox = sandbox;
    this.prefix = prefix;
    this.home = home;
  }

  /** The scenario tests' mesh: prefix {@code mwt-sbx-<hex>}, underlay 198.19.{100..249}.0/24. */
  public static BlogMesh upWithBlogManifests() throws Exception {
    return upWithBlogManifests("mwt-sbx-", 100, 250);
  }

  /**
   * Brings the blog's mesh up and applies the blog's manifests to both clusters.
   *
   * @param prefixBase the namespaces' prefix before a random hex suffix, so that suites never
   *     touch each other's namespaces
   * @param underlayFrom the lowest third octet of the 198.19.x.0/24 underlay (inclusive)
   * @param underlayTo the highest (exclusive)
   */
  public static BlogMesh upWithBlogManifests(String prefixBase, int underlayFrom, int underlayTo) throws Exception {
    return upWithBlogManifests(prefixBase, underlayFrom, underlayTo, MeshSpec.ClustermeshSource.DIRECT);
  }

  /** As above, with the agents reading the remote clusters from {@code source} (cache: through kvstore-sync). */
  public static BlogMesh upWithBlogManifests(String prefixBase, int underlayFrom, int underlayTo,
      MeshSpec.ClustermeshSource source) throws Exception {
    return up(prefixBase, underlayFrom, underlayTo,
        underlay -> MeshSpec.blog(underlay).withClustermeshSource(source), List.of(TEST));
  }

  /**
   * The mesh of the blog's policy: k8s-test-cluster (id 1), k8s-shared-cluster (id 2) and
   * k8s-production-cluster (id 3, 10.3.0.0/16), one node each; the shared cluster gets its blog
   * manifest, the test and production clusters both get the blog's frontend manifest
   * (k8s-test-cluster.yaml, unchanged), and both clusters' frontends are answered before this returns.
   */
  public static BlogMesh upThreeClustersWithBlogManifests(String prefixBase, int underlayFrom, int underlayTo)
      throws Exception {
    IpPrefix services = IpPrefix.parse("10.100.0.0/16");
    return up(prefixBase, underlayFrom, underlayTo, underlay -> new MeshSpec(underlay, List.of(
            new MeshSpec.Cluster(TEST, 1, IpPrefix.parse("10.1.0.0/16"), services, List.of("test-1")),
            new MeshSpec.Cluster(SHARED, 2, IpPrefix.parse("10.2.0.0/16"), services, List.of("shared-1")),
            new MeshSpec.Cluster(PRODUCTION, 3, IpPrefix.parse("10.3.0.0/16"), services, List.of("prod-1"))),
        MeshSpec.ClustermeshSource.DIRECT), List.of(TEST, PRODUCTION));
  }

  private static BlogMesh up(String prefixBase, int underlayFrom, int underlayTo,
      Function<IpPrefix, MeshSpec> spec, List<String> frontendClusters) throws Exception {
    String prefix = prefixBase + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    IpPrefix underlay =
        IpPrefix.parse("198.19." + ThreadLocalRandom.current().nextInt(underlayFrom, underlayTo) + ".0/24");
    Path home = SandboxCli.home();
    RunDir runDir = new RunDir(Path.of("/tmp", prefix));
    Sandbox sandbox = Sandbox.up(spec.apply(underlay), runDir, prefix, home,
        line -> System.out.println("sandbox " + prefix + ": " + line));
    BlogMesh mesh = new BlogMesh(sandbox, prefix, home);
    try {
      mesh.apply(SHARED, "k8s-shared-cluster.yaml");
      for (String cluster : frontendClusters) {
        mesh.apply(cluster, "k8s-test-cluster.yaml");
      }
      for (String cluster : frontendClusters) {
        // On a loaded machine the kubelet shim may not have created the frontend pod yet: exec then throws.
        await("a first answer from backend-svc in " + cluster).atMost(Duration.ofSeconds(180))
            .pollInterval(Duration.ofMillis(500))
            .ignoreExceptionsInstanceOf(IOException.class)
            .until(() -> mesh.request(cluster).isPresent());
      }
      return mesh;
    } catch (Exception | AssertionError e) {
      mesh.close();
      throw e;
    }
  }

  public void apply(String cluster, String exampleFile) throws IOException {
    Manifests.apply(sandbox.client(cluster), home.resolve("examples/blog").resolve(exampleFile));
  }

  /** One request from a test-cluster frontend pod to backend-svc; the answering pod's name, or empty. */
  public Optional<String> request() throws IOException {
    return request(TEST);
  }

  /** One request from a frontend pod of {@code cluster} to backend-svc; the answering pod's name, or empty. */
  public Optional<String> request(String cluster) throws IOException {
    Sandbox.ExecResult result = sandbox.exec(cluster, NAMESPACE, "frontend", Duration.ofSeconds(5),
        "timeout", "3", "busybox", "wget", "-q", "-O", "-", BACKEND_URL);
    return result.ok() && !result.output().isBlank() ? Optional.of(result.output().strip()) : Optional.empty();
  }

  /** Names of the pods that answered {@code count} requests (requests without answer are skipped). */
  public Set<String> answersOf(int count) throws IOException {
    Set<String> answers = new TreeSet<>();
    for (int i = 0; i < count; i++) {
      request().ifPresent(answers::add);
    }
    return answers;
  }

  public List<Pod> pods(String cluster, String app) {
    return sandbox.client(cluster).pods().inNamespace(NAMESPACE).withLabel("app", app).list().getItems();
  }

  public Set<String> podNames(String cluster, String app) {
    return pods(cluster, app).stream().map(p -> p.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
  }

  public PodRecord podRecord(String cluster, String name) {
    return PodRecord.read(sandbox.runDir().pods(cluster), NAMESPACE, name)
        .orElseThrow(() -> new AssertionError("no pod record for " + cluster + "/" + NAMESPACE + "/" + name));
  }

  /** `meshwork ARGS` against a node's agent, as the CLI prints it. */
  public String meshwork(String node, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] full = new String[args.length + 2];
    full[0] = "--socket";
    full[1] = sandbox.agentSocket(node).toString();
    System.arraycopy(args, 0, full, 2, args.length);
    int code = MeshworkCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true)).execute(full);
    if (code != 0) {
      throw new AssertionError("meshwork " + String.join(" ", args) + " on " + node + " failed: " + err);
    }
    return out.toString();
  }

  public String nodeAddress(String node) {
    return sandbox.mesh().nodeAddress(node);
  }

  /** The pod records of an app's pods in {@code cluster}, by name. */
  public List<PodRecord> podRecords(String cluster, String app) {
    return podNames(cluster, app).stream().map(name -> podRecord(cluster, name))
        .sorted(Comparator.comparing(PodRecord::name)).toList();
  }

  /** Backend IPs in a node's agent's load-balancer entries (all services). */
  public Set<String> programmedBackendIps(String node) {
    try (AgentConnection connection = AgentConnection.open(sandbox.agentSocket(node))) {
      Set<String> ips = new TreeSet<>();
      connection.inspection().listLoadBalancerEntries(ListRequest.getDefaultInstance()).getEntriesList().stream()
          .filter(e -> e.getSlot() > 0)
          .forEach(e -> ips.add(e.getBackendAddress().substring(0, e.getBackendAddress().indexOf(':'))));
      return ips;
    }
  }

  /**
   * The backend IPs of backend-svc (its ClusterIP in the test cluster) in a node's agent's
   * load-balancer entries, in slot order: a backend programmed twice shows twice.
   */
  public List<String> backendSvcBackendIps(String node) {
    String clusterIp = sandbox.client(TEST).services().inNamespace(NAMESPACE).withName("backend-svc").get()
        .getSpec().getClusterIP();
    try (AgentConnection connection = AgentConnection.open(sandbox.agentSocket(node))) {
      return connection.inspection().listLoadBalancerEntries(ListRequest.getDefaultInstance()).getEntriesList().stream()
          .filter(e -> e.getSlot() > 0 && e.getServiceAddress().startsWith(clusterIp + ":"))
          .map(e -> e.getBackendAddress().substring(0, e.getBackendAddress().indexOf(':')))
          .toList();
    }
  }

  /** The IPs of the shared cluster's backend pods that are Ready (what backend-svc's endpoints hold). */
  public Set<String> readyBackendIps() {
    return pods(SHARED, "backend").stream()
        .filter(p -> p.getStatus() != null && p.getStatus().getPodIP() != null && p.getStatus().getConditions() != null
            && p.getStatus().getConditions().stream()
                .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus())))
        .map(p -> p.getStatus().getPodIP())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  /** Scales the shared cluster's backend Deployment. */
  public void scaleBackends(int replicas) {
    sandbox.client(SHARED).apps().deployments().inNamespace(NAMESPACE).withName("backend").scale(replicas);
  }

  /** True when the node's agent answers and reports every remote cluster ready. */
  public boolean agentReady(String node) {
    try (AgentConnection connection = AgentConnection.open(sandbox.agentSocket(node))) {
      var remotes = connection.inspection().getClusterMeshStatus(ListRequest.getDefaultInstance()).getRemotesList();
      return !remotes.isEmpty() && remotes.stream().allMatch(r -> r.getReady());
    } catch (RuntimeException e) {
      return false;
    }
  }

  /**
   * Stops and removes the sandbox, keeping its logs (etcd, operators, kvstore-syncs, agents, CNI,
   * pods) in {@code target/sandbox-logs/<prefix>/} for the post-mortem of a failed case.
   */
  @Override
  public void close() {
    Path logs = Path.of("target", "sandbox-logs", prefix);
    Path root = sandbox.runDir().root();
    try (var files = Files.walk(root)) {
      for (Path log : files.filter(f -> f.getFileName().toString().endsWith(".log") && Files.isRegularFile(f)).toList()) {
        Path copy = logs.resolve(root.relativize(log).toString().replace('/', '_'));
        Files.createDirectories(logs);
        Files.copy(log, copy, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException | RuntimeException e) {
      System.out.println("sandbox " + prefix + ": could not keep its logs in " + logs + ": " + e);
    }
    sandbox.close();
  }
}
