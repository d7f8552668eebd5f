package dev.meshwork.e2e.scenario;

import static org.awaitility.Awaitility.await;

import dev.meshwork.cli.MeshworkCli;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.e2e.sandbox.Manifests;
import dev.meshwork.e2e.sandbox.MeshSpec;
import dev.meshwork.e2e.sandbox.RunDir;
import dev.meshwork.e2e.sandbox.Sandbox;
import dev.meshwork.e2e.sandbox.SandboxCli;
import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The blog's mesh in a sandbox of the test's own (prefix {@code mwt-sbx-<hex>}, an underlay /24
 * in 198.19.0.0/16, a run directory under /tmp), with the blog's manifests applied: the shared
 * cluster's two backends behind the global {@code backend-svc}, the test cluster's two frontends.
 */
final class BlogMesh implements AutoCloseable {

  static final String TEST = "k8s-test-cluster";
  static final String SHARED = "k8s-shared-cluster";
  static final String NAMESPACE = "testing";
  static final String BACKEND_URL = "http://backend-svc.testing.svc.cluster.local";

  final Sandbox sandbox;
  final Path home;

  private BlogMesh(Sandbox sandbox, Path home) {
    this.sandbox = sandbox;
    this.home = home;
  }

  /** Brings the blog's mesh up and applies the blog's manifests to both clusters. */
  static BlogMesh upWithBlogManifests() throws Exception {
    String prefix = "mwt-sbx-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt());
    IpPrefix underlay = IpPrefix.parse("198.19." + ThreadLocalRandom.current().nextInt(100, 250) + ".0/24");
    Path home = SandboxCli.home();
    RunDir runDir = new RunDir(Path.of("/tmp", prefix));
    Sandbox sandbox = Sandbox.up(MeshSpec.blog(underlay), runDir, prefix, home,
        line -> System.out.println("sandbox " + prefix + ": " + line));
    BlogMesh mesh = new BlogMesh(sandbox, home);
    try {
      mesh.apply(SHARED, "k8s-shared-cluster.yaml");
      mesh.apply(TEST, "k8s-test-cluster.yaml");
      await("a first answer from backend-svc").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
          .until(() -> mesh.request().isPresent());
      return mesh;
    } catch (Exception | AssertionError e) {
      mesh.close();
      throw e;
    }
  }

  void apply(String cluster, String exampleFile) throws IOException {
    Manifests.apply(sandbox.client(cluster), home.resolve("examples/blog").resolve(exampleFile));
  }

  /** One request from a frontend pod to backend-svc; the answering pod's name, or empty. */
  Optional<String> request() throws IOException {
    Sandbox.ExecResult result = sandbox.exec(TEST, NAMESPACE, "frontend", Duration.ofSeconds(5),
        "timeout", "3", "busybox", "wget", "-q", "-O", "-", BACKEND_URL);
    return result.ok() && !result.output().isBlank() ? Optional.of(result.output().strip()) : Optional.empty();
  }

  /** Names of the pods that answered {@code count} requests (requests without answer are skipped). */
  Set<String> answersOf(int count) throws IOException {
    Set<String> answers = new TreeSet<>();
    for (int i = 0; i < count; i++) {
      request().ifPresent(answers::add);
    }
    return answers;
  }

  List<Pod> pods(String cluster, String app) {
    return sandbox.client(cluster).pods().inNamespace(NAMESPACE).withLabel("app", app).list().getItems();
  }

  Set<String> podNames(String cluster, String app) {
    return pods(cluster, app).stream().map(p -> p.getMetadata().getName()).collect(Collectors.toCollection(TreeSet::new));
  }

  PodRecord podRecord(String cluster, String name) {
    return PodRecord.read(sandbox.runDir().pods(cluster), NAMESPACE, name)
        .orElseThrow(() -> new AssertionError("no pod record for " + cluster + "/" + NAMESPACE + "/" + name));
  }

  /** `meshwork ARGS` against a node's agent, as the CLI prints it. */
  String meshwork(String node, String... args) {
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

  String nodeAddress(String node) {
    return sandbox.mesh().nodeAddress(node);
  }

  @Override
  public void close() {
    sandbox.close();
  }
}
