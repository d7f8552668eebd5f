package dev.meshwork.e2e.sandbox;

import dev.meshwork.agent.endpoint.CniInstaller;
import dev.meshwork.cli.MeshworkCli;
import dev.meshwork.e2e.sandbox.kubelet.KubeletShim;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A whole mesh on this machine: per cluster a TLS etcd, a Kubernetes API (fabric8's mock server
 * in CRUD mode), the operator, the kubelet shim and, in cache mode, a kvstore-sync; per node a
 * network namespace on the underlay bridge with its agent running inside it (eBPF datapath,
 * policy enforced, CNI served).
 *
 * <p>{@link #up} brings it up step by step and returns once every agent sees every cluster ready;
 * {@link #close()} stops everything. Every namespace, link, pin directory and process is put in
 * the run directory's {@link Journal} before it is created, so {@link Teardown} can remove it
 * after a crash.
 */
public final class Sandbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);
  // The mock server logs every request through java.util.logging; JUL keeps loggers weakly, so hold it.
  private static final java.util.logging.Logger MOCK_SERVER_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  /** Agents, operators and kvstore-syncs that exit on their own are restarted, as their pods would be, this often. */
  static final int MAX_RESTARTS = 3;

  /** How long an agent may take to see every cluster ready: eight JVMs starting on two loaded cores take minutes. */
  private static final long AGENT_READY_SECONDS = 300;

  /** JVM options of the child JVMs: small heaps, C1 only (start-up matters more than peak speed here). */
  static final String CHILD_JAVA_OPTS = "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xmx256m -Xss512k";

  private final MeshSpec mesh;
  private final RunDir runDir;
  private final String prefix;
  private final Path home;
  private final Journal journal;
  private final Underlay underlay;
  private final Consumer<String> progress;
  private final Map<String, ManagedProcess> etcds = new LinkedHashMap<>();
  private final Map<String, ManagedProcess> operators = new LinkedHashMap<>();
  private final Map<String, ManagedProcess> kvstoreSyncs = new LinkedHashMap<>();
  private final Map<String, ManagedProcess> agents = new LinkedHashMap<>();
  private final Map<String, KubernetesMockServer> apiServers = new LinkedHashMap<>();
  private final Map<String, KubernetesClient> clients = new LinkedHashMap<>();
  private final Map<String, KubeletShim> kubelets = new LinkedHashMap<>();
  private volatile boolean closed;

  private Sandbox(MeshSpec mesh, RunDir runDir, String prefix, Path home, Consumer<String> progress) {
    this.mesh = mesh;
    this.runDir = runDir;
    this.prefix = prefix;
    this.home = home;
    this.journal = new Journal(runDir.journal());
    this.underlay = new Underlay(mesh, prefix, journal);
    this.progress = progress;
  }

  /**
   * Brings the mesh up in {@code runDir} (which must not hold a sandbox already). On failure
   * everything created so far is removed and the exception names the step.
   */
  public static Sandbox up(MeshSpec mesh, RunDir runDir, String prefix, Path home, Consumer<String> progress)
      throws SandboxException {
    prepareRunDir(mesh, runDir, prefix);
    Sandbox sandbox = new Sandbox(mesh, runDir, prefix, home, progress);
    try {
      sandbox.start();
      return sandbox;
    } catch (SandboxException | RuntimeException e) {
      sandbox.close();
      throw e;
    }
  }

  /** Writes the mesh and prefix into a new run directory (the daemon then calls {@link #upPrepared}). */
  static void prepareRunDir(MeshSpec mesh, RunDir runDir, String prefix) throws SandboxException {
    try {
      if (Files.exists(runDir.journal())) {
        throw new SandboxException("prepare", "a sandbox already runs in " + runDir.root()
            + " (or crashed there): run `meshwork-sandbox down --run-dir " + runDir.root() + "` first", null);
      }
      Files.createDirectories(runDir.root());
      Files.writeString(runDir.meshFile(), mesh.toYaml());
      Files.writeString(runDir.prefixFile(), prefix + "\n");
      Files.writeString(runDir.journal(), "");
    } catch (IOException e) {
      throw new SandboxException("prepare", "cannot write the run directory " + runDir.root() + ": " + e.getMessage(), e);
    }
  }

  /** For the daemon: the run directory was prepared by `up`; bring the mesh up in it. */
  static Sandbox upPrepared(MeshSpec mesh, RunDir runDir, String prefix, Path home, Consumer<String> progress)
      throws SandboxException {
    Sandbox sandbox = new Sandbox(mesh, runDir, prefix, home, progress);
    try {
      sandbox.start();
      return sandbox;
    } catch (SandboxException | RuntimeException e) {
      sandbox.stopAll();
      throw e;
    }
  }

  // ---- ports on the host's underlay address ----------------------------------------------------

  int etcdClientPort(MeshSpec.Cluster cluster) {
    return 2379 + 10 * mesh.indexOf(cluster);
  }

  private int etcdPeerPort(MeshSpec.Cluster cluster) {
    return 2380 + 10 * mesh.indexOf(cluster);
  }

  int apiPort(MeshSpec.Cluster cluster) {
    return 6443 + mesh.indexOf(cluster);
  }

  String etcdEndpoint(MeshSpec.Cluster cluster) {
    return "https://" + mesh.hostAddress() + ":" + etcdClientPort(cluster);
  }

  // ---- up --------------------------------------------------------------------------------------

  private void start() throws SandboxException {
    long started = System.nanoTime();
    step("check", () -> checkPrerequisites());
    step("certificates", () -> certificates());
    step("network", () -> network());
    for (MeshSpec.Cluster c : mesh.clusters()) {
      step("etcd " + c.name(), () -> startEtcd(c));
    }
    for (MeshSpec.Cluster c : mesh.clusters()) {
      step("api " + c.name(), () -> startApi(c));
    }
    for (MeshSpec.Cluster c : mesh.clusters()) {
      step("operator " + c.name(), () -> startOperator(c));
    }
    if (mesh.cacheMode()) {
      for (MeshSpec.Cluster c : mesh.clusters()) {
        step("kvstore-sync " + c.name(), () -> startKvstoreSync(c));
      }
    }
    step("cni", () -> installCni());
    for (MeshSpec.Cluster c : mesh.clusters()) {
      for (String node : c.nodes()) {
        step("agent " + node, () -> startAgent(c, node));
      }
    }
    for (MeshSpec.Cluster c : mesh.clusters()) {
      for (String node : c.nodes()) {
        step("ready " + node, () -> awaitAgentReady(c, node));
      }
    }
    for (MeshSpec.Cluster c : mesh.clusters()) {
      step("kubelet " + c.name(), () -> startKubelet(c));
    }
    progress.accept(String.format("mesh of %d clusters, %d nodes up in %.1f s", mesh.clusters().size(),
        mesh.clusters().stream().mapToInt(c -> c.nodes().size()).sum(), (System.nanoTime() - started) / 1e9));
  }

  @FunctionalInterface
  private interface Step {
    void run() throws Exception;
  }

  private void step(String name, Step step) throws SandboxException {
    long t0 = System.nanoTime();
    progress.accept("[" + name + "] ...");
    try {
      step.run();
    } catch (SandboxException e) {
      throw e;
    } catch (Exception e) {
      log.error("step {} failed", name, e);
      throw new SandboxException(name, String.valueOf(e.getMessage()), e);
    }
    progress.accept(String.format("[%s] done in %.1f s", name, (System.nanoTime() - t0) / 1e9));
  }

  private void checkPrerequisites() throws IOException {
    List<String> problems = new ArrayList<>();
    if (!"root".equals(System.getProperty("user.name"))) {
      problems.add("must run as root (network namespaces, eBPF)");
    }
    for (String tool : List.of("/usr/bin/etcd", "/usr/bin/etcdctl", "/usr/bin/nsenter", "/usr/sbin/bpftool")) {
      if (!Files.isExecutable(Path.of(tool))) {
        problems.add(tool + " is missing (scripts/install-deps.sh installs it)");
      }
    }
    if (!Files.isExecutable(Path.of("/usr/bin/busybox")) && !Files.isExecutable(Path.of("/bin/busybox"))) {
      problems.add("busybox is missing (apt-get install busybox-static): pods run busybox httpd");
    }
    List<String> modules = new ArrayList<>(List.of("agent", "operator", "cni-plugin", "cli"));
    if (mesh.cacheMode()) {
      modules.add("kvstore-sync");
    }
    for (String module : modules) {
      Path target = home.resolve(module).resolve("target");
      boolean built;
      try (var files = Files.list(target)) {
        built = files.anyMatch(f -> f.getFileName().toString().matches("meshwork-" + module + "-.*\\.jar"));
      } catch (IOException e) {
        built = false;
      }
      if (!built) {
        problems.add(module + " is not built in " + home + " (./mvnw -B -ntp -DskipTests package)");
      }
    }
    if (!problems.isEmpty()) {
      throw new IOException(String.join("; ", problems));
    }
  }

  private void certificates() throws IOException {
    // The same files `meshwork clustermesh connect` writes, from the CLI's own code.
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> args = new ArrayList<>();
    if (mesh.clusters().size() == 1) {
      MeshSpec.Cluster c = mesh.clusters().getFirst();
      args.addAll(List.of("clustermesh", "ca", "--cluster", c.name(), "--out", runDir.caDir(c.name()).toString(),
          "--san", mesh.hostAddress()));
    } else {
      args.addAll(List.of("clustermesh", "connect", "--create-missing-ca", "--out", runDir.meshOut().toString()));
      for (MeshSpec.Cluster c : mesh.clusters()) {
        args.add("--cluster");
        args.add(c.name() + "=" + runDir.caDir(c.name()) + "=" + etcdEndpoint(c));
      }
    }
    int code = MeshworkCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
        .execute(args.toArray(String[]::new));
    if (code != 0) {
      throw new IOException("meshwork " + String.join(" ", args) + " failed: " + err.toString().strip());
    }
    for (MeshSpec.Cluster c : mesh.clusters()) {
      Path ca = runDir.caDir(c.name());
      Files.createDirectories(runDir.cluster(c.name()));
      Files.writeString(runDir.kvstoreConfig(c.name()),
          "endpoints:\n- " + etcdEndpoint(c) + "\n"
              + "trusted-ca-file: " + ca.resolve("ca.crt") + "\n"
              + "cert-file: " + ca.resolve("etcd-local-client.crt") + "\n"
              + "key-file: " + ca.resolve("etcd-local-client.key") + "\n");
      if (mesh.clusters().size() == 1) {
        Files.createDirectories(runDir.clustermeshDir(c.name()));
      }
    }
  }

  private void network() throws IOException {
    underlay.create();
    int index = 0;
    for (MeshSpec.Cluster c : mesh.clusters()) {
      for (String node : c.nodes()) {
        underlay.addNode(node, index++);
        Files.createDirectories(runDir.node(node));
      }
    }
    mountBpffs();
    progress.accept("  underlay " + mesh.underlay() + " in namespace " + underlay.underlayNamespace()
        + ", host link " + underlay.hostLink() + " " + mesh.hostAddress());
  }

  private void startEtcd(MeshSpec.Cluster c) throws IOException {
    Path dir = runDir.cluster(c.name());
    Path ca = runDir.caDir(c.name());
    String peer = "http://" + mesh.hostAddress() + ":" + etcdPeerPort(c);
    List<String> command = List.of("/usr/bin/etcd",
        "--name", c.name(),
        "--data-dir", dir.resolve("etcd-data").toString(),
        "--listen-client-urls", etcdEndpoint(c),
        "--advertise-client-urls", etcdEndpoint(c),
        "--listen-peer-urls", peer,
        "--initial-advertise-peer-urls", peer,
        "--initial-cluster", c.name() + "=" + peer,
        "--cert-file", ca.resolve("etcd-server.crt").toString(),
        "--key-file", ca.resolve("etcd-server.key").toString(),
        "--trusted-ca-file", ca.resolve("ca.crt").toString(),
        "--client-cert-auth");
    ManagedProcess etcd = new ManagedProcess("etcd " + c.name(), command, Map.of(), dir.resolve("etcd.log"), journal);
    etcds.put(c.name(), etcd);
    etcd.start();
    awaitEtcd(c, etcd);
    progress.accept("  etcd of " + c.name() + " serves " + etcdEndpoint(c) + " (pid " + etcd.pid() + ")");
  }

  private void awaitEtcd(MeshSpec.Cluster c, ManagedProcess etcd) throws IOException {
    Path ca = runDir.caDir(c.name());
    long deadline = System.nanoTime() + 30_000_000_000L;
    IOException last = null;
    while (System.nanoTime() < deadline) {
      if (!etcd.running()) {
        throw new IOException("etcd of " + c.name() + " exited: " + etcd.tail(5));
      }
      try {
        Commands.run("/usr/bin/etcdctl", "--endpoints", etcdEndpoint(c), "--cacert", ca.resolve("ca.crt").toString(),
            "--cert", ca.resolve("etcd-local-client.crt").toString(), "--key",
            ca.resolve("etcd-local-client.key").toString(), "--command-timeout=2s", "endpoint", "health");
        return;
      } catch (IOException e) {
        last = e;
        Commands.sleep(200);
      }
    }
    throw new IOException("etcd of " + c.name() + " not healthy after 30 s: " + (last == null ? "" : last.getMessage()));
  }

  /** Restarts a cluster's etcd after {@link #etcd(String)}{@code .stop()} (same data, same port). */
  public void restartEtcd(String cluster) throws IOException {
    ManagedProcess etcd = etcd(cluster);
    etcd.start();
    awaitEtcd(mesh.cluster(cluster), etcd);
  }

  private void startApi(MeshSpec.Cluster c) throws IOException {
    MOCK_SERVER_LOG.setLevel(java.util.logging.Level.WARNING);
    KubernetesMockServer server = new KubernetesMockServer(new Context(Serialization.jsonMapper()), new MockWebServer(),
        new HashMap<>(), new KubernetesMixedDispatcher(new HashMap<>()), false);
    apiServers.put(c.name(), server);
    server.init(InetAddress.getByName(mesh.hostAddress()), apiPort(c));
    String url = "http://" + mesh.hostAddress() + ":" + apiPort(c);
    Files.writeString(runDir.kubeconfig(c.name()), kubeconfig(c.name(), url));
    KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(io.fabric8.kubernetes.client.Config.fromKubeconfig(Files.readString(runDir.kubeconfig(c.name()))))
        .build();
    clients.put(c.name(), client);
    installCrd(client, "/crds/meshnodes.meshwork.dev.yaml");
    installCrd(client, "/crds/ciliumnetworkpolicies.cilium.io.yaml");
    for (String node : c.nodes()) {
      client.nodes().resource(new NodeBuilder()
          .withNewMetadata().withName(node).addToLabels("kubernetes.io/hostname", node)
          .addToLabels("topology.kubernetes.io/zone", c.name() + "-zone").endMetadata()
          .withNewStatus()
          .addNewAddress().withType("InternalIP").withAddress(mesh.nodeAddress(node)).endAddress()
          .addNewAddress().withType("Hostname").withAddress(node).endAddress()
          .addNewCondition().withType("Ready").withStatus("True").endCondition()
          .endStatus()
          .build()).create();
    }
    progress.accept("  API of " + c.name() + " at " + url + " (kubeconfig " + runDir.kubeconfig(c.name()) + ")");
  }

  static String kubeconfig(String cluster, String url) {
    return "apiVersion: v1\nkind: Config\n"
        + "clusters:\n- name: " + cluster + "\n  cluster:\n    server: " + url + "\n"
        + "users:\n- name: sandbox\n  user:\n    token: sandbox\n"
        + "contexts:\n- name: " + cluster + "\n  context:\n    cluster: " + cluster + "\n    user: sandbox\n"
        + "    namespace: default\n"
        + "current-context: " + cluster + "\n";
  }

  private static void installCrd(KubernetesClient client, String resource) throws IOException {
    try (InputStream yaml = Sandbox.class.getResourceAsStream(resource)) {
      if (yaml == null) {
        throw new IOException("CRD " + resource + " is not on the class path");
      }
      CustomResourceDefinition crd = client.apiextensions().v1().customResourceDefinitions().load(yaml).item();
      client.apiextensions().v1().customResourceDefinitions().resource(crd).create();
    }
  }

  private Map<String, String> javaEnvironment(MeshSpec.Cluster c) {
    Map<String, String> env = new HashMap<>();
    env.put("KUBECONFIG", runDir.kubeconfig(c.name()).toString());
    env.put("MESHWORK_JAVA_OPTS", CHILD_JAVA_OPTS);
    // fabric8's defaults (10 s per request) are short for six JVMs starting on two loaded cores.
    env.put("KUBERNETES_REQUEST_TIMEOUT", "60000");
    env.put("KUBERNETES_CONNECTION_TIMEOUT", "30000");
    return env;
  }

  private void startOperator(MeshSpec.Cluster c) throws IOException {
    List<String> command = List.of(home.resolve("bin/meshwork-operator").toString(),
        "--cluster-name=" + c.name(),
        "--cluster-id=" + c.id(),
        "--kvstore-config=" + runDir.kvstoreConfig(c.name()),
        "--cluster-pool-ipv4-cidr=" + c.podCidr(),
        "--cluster-pool-ipv4-mask-size=24",
        "--leader-election=false",
        "--metrics-port=0",
        "--pod-name=meshwork-operator-" + c.name());
    ManagedProcess operator = new ManagedProcess("operator " + c.name(), command, javaEnvironment(c),
        runDir.cluster(c.name()).resolve("operator.log"), journal).restartOnExit(MAX_RESTARTS);
    operators.put(c.name(), operator);
    operator.start();
    progress.accept("  operator of " + c.name() + " (pid " + operator.pid() + ", log " + operator.log() + ")");
  }

  /**
   * The cluster's kvstore-sync, in the host namespace like the operator: it mirrors every remote
   * cluster of the clustermesh config directory (the agents' own) into the local etcd.
   */
  private void startKvstoreSync(MeshSpec.Cluster c) throws IOException {
    List<String> command = List.of(home.resolve("bin/meshwork-kvstore-sync").toString(),
        "--cluster-name=" + c.name(),
        "--cluster-id=" + c.id(),
        "--kvstore-config=" + runDir.kvstoreConfig(c.name()),
        "--clustermesh-config-dir=" + runDir.clustermeshDir(c.name()),
        "--metrics-port=0");
    ManagedProcess sync = new ManagedProcess("kvstore-sync " + c.name(), command, javaEnvironment(c),
        runDir.cluster(c.name()).resolve("kvstore-sync.log"), journal).restartOnExit(MAX_RESTARTS);
    kvstoreSyncs.put(c.name(), sync);
    sync.start();
    progress.accept("  kvstore-sync of " + c.name() + " (pid " + sync.pid() + ", log " + sync.log() + ")");
  }

  private void installCni() throws IOException {
    Files.createDirectories(runDir.cniBinDir());
    for (MeshSpec.Cluster c : mesh.clusters()) {
      for (String node : c.nodes()) {
        new CniInstaller(new CniInstaller.Settings(home.resolve("bin/meshwork-cni"), null,
            home.resolve("cni-plugin/target"), runDir.cniBinDir(), runDir.netConfDir(node),
            runDir.agentSocket(node), 1450, runDir.node(node).resolve("cni.log"), "info", null)).install();
      }
    }
  }

  /** A bpffs instance of the sandbox's own: unmounting it in `down` releases every pin. */
  private Path bpffsRoot() {
    return runDir.root().resolve("bpffs");
  }

  private void mountBpffs() throws IOException {
    Files.createDirectories(bpffsRoot());
    journal.record("mount", bpffsRoot().toString());
    Commands.run("mount", "-t", "bpf", "bpf", bpffsRoot().toString());
  }

  private void startAgent(MeshSpec.Cluster c, String node) throws IOException {
    Path dir = runDir.node(node);
    // nsenter, not `ip netns exec`: the latter remounts /sys and hides /sys/fs/bpf.
    List<String> command = List.of("/usr/bin/nsenter", "--net=" + Underlay.netnsPath(underlay.nodeNamespace(node)),
        "--", home.resolve("bin/meshwork-agent").toString(),
        "--cluster-name=" + c.name(),
        "--cluster-id=" + c.id(),
        "--node-name=" + node,
        "--kvstore-config=" + runDir.kvstoreConfig(c.name()),
        "--clustermesh-config-dir=" + runDir.clustermeshDir(c.name()),
        "--api-socket=" + runDir.agentSocket(node),
        "--datapath=bpf",
        "--bpffs-root=" + bpffsRoot(),
        "--policy-enforcement=enabled",
        "--endpoint-state-dir=" + dir.resolve("endpoints"),
        "--clustermesh-source=" + mesh.clustermeshSource().flag());
    ManagedProcess agent = new ManagedProcess("agent " + node, command, javaEnvironment(c), dir.resolve("agent.log"),
        journal).restartOnExit(MAX_RESTARTS);
    agents.put(node, agent);
    agent.start();
    progress.accept("  agent of " + c.name() + "/" + node + " in namespace " + underlay.nodeNamespace(node) + " at "
        + mesh.nodeAddress(node) + " (pid " + agent.pid() + ", socket " + runDir.agentSocket(node) + ")");
  }

  private void startKubelet(MeshSpec.Cluster c) throws IOException {
    List<KubeletShim.NodeSpec> nodes = c.nodes().stream()
        .map(n -> new KubeletShim.NodeSpec(n, runDir.netConfDir(n).resolve(CniInstaller.CONFLIST)))
        .toList();
    Files.createDirectories(runDir.pods(c.name()));
    KubeletShim shim = new KubeletShim(clients.get(c.name()), new KubeletShim.Settings(c.name(), c.serviceCidr(),
        nodes, runDir.cniBinDir().resolve(CniInstaller.PLUGIN), runDir.pods(c.name()),
        podNetnsPrefix(c)));
    kubelets.put(c.name(), shim);
    shim.start();
  }

  String podNetnsPrefix(MeshSpec.Cluster c) {
    return prefix + "-c" + c.id() + "-";
  }

  private void awaitAgentReady(MeshSpec.Cluster c, String node) throws IOException {
    ManagedProcess agent = agents.get(node);
    if (mesh.clusters().size() == 1) {
      awaitSocket(node, agent);
      return;
    }
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    // clustermesh status --wait: every remote cluster connected and synced, as the agent reports it.
    long deadline = System.nanoTime() + AGENT_READY_SECONDS * 1_000_000_000L;
    while (true) {
      if (agent.gaveUp()) {
        throw new IOException("agent of " + node + " exited " + (agent.restarts() + 1) + " times: " + agent.tail(8));
      }
      int code = MeshworkCli.commandLine(new PrintWriter(out, true), new PrintWriter(err, true))
          .execute("clustermesh", "status", "--socket", runDir.agentSocket(node).toString(), "--wait",
              "--wait-timeout", "5");
      if (code == 0) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("agent of " + node + " does not see every cluster ready after " + AGENT_READY_SECONDS + " s: "
            + err.toString().strip() + "\n" + agent.tail(8));
      }
      err.getBuffer().setLength(0);
    }
  }

  private void awaitSocket(String node, ManagedProcess agent) throws IOException {
    long deadline = System.nanoTime() + AGENT_READY_SECONDS * 1_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (agent.gaveUp()) {
        throw new IOException("agent of " + node + " exited " + (agent.restarts() + 1) + " times: " + agent.tail(8));
      }
      if (Files.exists(runDir.agentSocket(node))) {
        return;
      }
      Commands.sleep(200);
    }
    throw new IOException("agent of " + node + " has no API socket after " + AGENT_READY_SECONDS + " s");
  }

  // ---- for the CLI and the scenarios -------------------------------------------------------------

  public MeshSpec mesh() {
    return mesh;
  }

  public RunDir runDir() {
    return runDir;
  }

  public String prefix() {
    return prefix;
  }

  /** A client of the cluster's API server (what `kubectl` would be). */
  public KubernetesClient client(String cluster) {
    mesh.cluster(cluster);
    return clients.get(cluster);
  }

  public ManagedProcess etcd(String cluster) {
    mesh.cluster(cluster);
    return etcds.get(cluster);
  }

  /**
   * The cluster's operator. Tests crash it with {@link ManagedProcess#kill()} (SIGKILL to its pid)
   * and bring it back with {@link ManagedProcess#start()}; the journal records each new pid.
   */
  public ManagedProcess operator(String cluster) {
    mesh.cluster(cluster);
    return operators.get(cluster);
  }

  /** The cluster's kvstore-sync (cache mode only); killed and restarted like {@link #operator}. */
  public ManagedProcess kvstoreSync(String cluster) {
    mesh.cluster(cluster);
    if (!mesh.cacheMode()) {
      throw new IllegalStateException("cluster " + cluster + " runs no kvstore-sync: the mesh's clustermeshSource is "
          + mesh.clustermeshSource().flag() + ", not cache");
    }
    return kvstoreSyncs.get(cluster);
  }

  public ManagedProcess agent(String node) {
    ManagedProcess agent = agents.get(node);
    if (agent == null) {
      throw new IllegalArgumentException("no node " + node + " in the mesh");
    }
    return agent;
  }

  /** Restarts a node's agent (stop, start, wait until it sees every cluster ready again). */
  public void restartAgent(String node) throws IOException {
    MeshSpec.Cluster cluster = mesh.clusters().stream().filter(c -> c.nodes().contains(node)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no node " + node + " in the mesh"));
    ManagedProcess agent = agent(node);
    agent.stop(10_000);
    agent.start();
    awaitAgentReady(cluster, node);
  }

  public Path agentSocket(String node) {
    return runDir.agentSocket(node);
  }

  /** The output and exit code of a command run in a pod. */
  public record ExecResult(int exitCode, String output) {
    public boolean ok() {
      return exitCode == 0;
    }
  }

  /**
   * Runs a command in a pod's network namespace (as `meshwork-sandbox exec` does); POD may be a
   * Deployment's name. A command still running after {@code timeout} is killed (exit code -1).
   */
  public ExecResult exec(String cluster, String namespace, String pod, java.time.Duration timeout, String... command)
      throws IOException {
    var record = PodExec.find(runDir, new PodExec.Target(cluster, namespace, pod));
    Process process = new ProcessBuilder(PodExec.command(record, List.of(command))).redirectErrorStream(true).start();
    process.getOutputStream().close();
    try {
      if (!process.waitFor(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor();
        return new ExecResult(-1, new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    }
    return new ExecResult(process.exitValue(),
        new String(process.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Whether every child process still runs (the daemon checks this for `status`). */
  public List<String> deadProcesses() {
    List<String> dead = new ArrayList<>();
    for (Map<String, ManagedProcess> group : List.of(etcds, operators, kvstoreSyncs, agents)) {
      for (ManagedProcess p : group.values()) {
        if (!p.running()) {
          dead.add(p.name());
        }
      }
    }
    return dead;
  }

  // ---- down ------------------------------------------------------------------------------------

  /** Stops the pods (CNI DEL), agents, kvstore-syncs, operators, API servers and etcds, in that order. */
  void stopAll() {
    for (Map.Entry<String, KubeletShim> shim : kubelets.entrySet()) {
      try {
        shim.getValue().close();
      } catch (RuntimeException e) {
        log.warn("kubelet shim of {}: close failed", shim.getKey(), e);
      }
    }
    kubelets.clear();
    stopGroup(agents);
    stopGroup(kvstoreSyncs);
    stopGroup(operators);
    for (KubernetesClient client : clients.values()) {
      client.close();
    }
    clients.clear();
    for (KubernetesMockServer server : apiServers.values()) {
      try {
        server.destroy();
      } catch (RuntimeException e) {
        log.warn("API server: stop failed", e);
      }
    }
    apiServers.clear();
    stopGroup(etcds);
  }

  private static void stopGroup(Map<String, ManagedProcess> group) {
    List<Thread> stopping = new ArrayList<>();
    for (ManagedProcess p : group.values()) {
      stopping.add(Thread.ofPlatform().start(() -> p.stop(10_000)));
    }
    for (Thread t : stopping) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Stops everything and removes every namespace, link, pin and the run directory. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopAll();
    try {
      Teardown.run(runDir, line -> log.info("{}", line));
    } catch (IOException e) {
      log.warn("teardown of {} incomplete", runDir.root(), e);
    }
  }

  static boolean reachable(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }
}
