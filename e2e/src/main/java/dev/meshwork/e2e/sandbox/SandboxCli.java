package dev.meshwork.e2e.sandbox;

import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `meshwork-sandbox`: a whole multi-cluster mesh on this machine. */
@Command(
    name = "meshwork-sandbox",
    mixinStandardHelpOptions = true,
    description = {
      "A multi-cluster Meshwork mesh on this machine: per cluster a TLS etcd, a Kubernetes API",
      "(fabric8 mock server), the operator, a kubelet shim and, in cache mode, a kvstore-sync; per",
      "node a network namespace with its agent (eBPF datapath). Needs root. See docs/sandbox.md."
    },
    subcommands = {
      SandboxCli.Up.class,
      SandboxCli.Down.class,
      SandboxCli.Status.class,
      SandboxCli.Apply.class,
      SandboxCli.Exec.class,
      SandboxCli.Daemon.class,
      CommandLine.HelpCommand.class
    })
public final class SandboxCli implements Runnable {

  static final String READY = "ready";
  static final String FAILED = "failed: ";

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    // The agent's and operator's jars on the class path carry a logback.xml of their own.
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "meshwork-sandbox-logback.xml");
    }
    CommandLine cli = new CommandLine(new SandboxCli());
    cli.setExecutionExceptionHandler((e, cmd, parse) -> {
      if (e instanceof IOException || e instanceof IllegalArgumentException || e instanceof SandboxException) {
        cmd.getErr().println("meshwork-sandbox: " + e.getMessage());
        return 1;
      }
      throw e;
    });
    int code = cli.execute(args);
    if (code != Integer.MIN_VALUE) {
      System.exit(code);
    }
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "give a command: up, apply, exec, status, down");
  }

  /** Options every command shares. */
  static final class RunDirOption {
    @Option(names = "--run-dir", paramLabel = "DIR",
        description = "The sandbox's state directory (default: ${DEFAULT-VALUE}).",
        defaultValue = "/run/meshwork-sandbox")
    Path runDir;

    RunDir runDir() {
      return new RunDir(runDir);
    }
  }

  static void requireRoot() throws IOException {
    if (!"root".equals(System.getProperty("user.name"))) {
      throw new IOException("must run as root (it creates network namespaces and loads eBPF programs); try: sudo "
          + "bin/meshwork-sandbox ...");
    }
  }

  /** The source checkout (with bin/ and the built modules). */
  public static Path home() {
    String env = System.getenv("MESHWORK_HOME");
    if (env != null && !env.isBlank()) {
      return Path.of(env).toAbsolutePath().normalize();
    }
    List<Path> starts = new ArrayList<>();
    try {
      starts.add(Path.of(SandboxCli.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
    } catch (Exception e) {
      // fall back to the working directory
    }
    starts.add(Path.of("").toAbsolutePath());
    for (Path start : starts) {
      for (Path p = start; p != null; p = p.getParent()) {
        if (Files.isExecutable(p.resolve("bin/meshwork-agent")) && Files.isDirectory(p.resolve("agent"))) {
          return p;
        }
      }
    }
    throw new IllegalStateException("cannot find the Meshwork checkout (bin/meshwork-agent); set MESHWORK_HOME");
  }

  // ---- up ----------------------------------------------------------------------------------------

  @Command(name = "up", description = "Bring a mesh up (default: the blog's two clusters) and return once it is ready.")
  static final class Up implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();

    @Option(names = "--mesh", paramLabel = "FILE", description = "Mesh file (YAML); default: the blog's mesh.")
    Path meshFile;

    @Option(names = "--prefix", paramLabel = "NAME", defaultValue = "mwsbx",
        description = "Prefix of network namespaces, host link and bpffs pins (default: ${DEFAULT-VALUE}).")
    String prefix;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "300",
        description = "Give up after this long (default: ${DEFAULT-VALUE}).")
    int timeoutSeconds;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      requireRoot();
      if (!prefix.matches("[a-z][a-z0-9-]{0,11}")) {
        throw new IllegalArgumentException("--prefix '" + prefix + "' must be 1-12 characters of [a-z0-9-]");
      }
      MeshSpec mesh = meshFile == null ? MeshSpec.blog() : MeshSpec.read(meshFile);
      RunDir runDir = dir.runDir();
      PrintWriter out = spec.commandLine().getOut();
      Sandbox.prepareRunDir(mesh, runDir, prefix);
      out.println("meshwork-sandbox: bringing up " + mesh.clusters().size() + " clusters in " + runDir.root());
      out.flush();
      Process daemon;
      try {
        daemon = startDaemon(runDir);
      } catch (IOException | RuntimeException e) {
        Teardown.run(runDir, line -> { });
        throw e;
      }
      String outcome = follow(runDir, daemon, out);
      if (outcome.equals(READY)) {
        out.println("meshwork-sandbox: ready. Next: meshwork-sandbox apply -f FILE --cluster NAME; "
            + "meshwork-sandbox status; meshwork-sandbox down");
        out.flush();
        return 0;
      }
      PrintWriter err = spec.commandLine().getErr();
      err.println("meshwork-sandbox: up failed: " + outcome);
      err.println("meshwork-sandbox: logs: " + runDir.daemonLog() + " (kept in " + logCopy(runDir) + ")");
      err.println("meshwork-sandbox: cleaning up");
      err.flush();
      Teardown.run(runDir, line -> out.println("  " + line));
      out.flush();
      return 1;
    }

    private static Path logCopy(RunDir runDir) {
      // The run directory is removed by the cleanup; keep the logs for the post-mortem.
      Path copy = Path.of("/tmp", "meshwork-sandbox-failed-" + ProcessHandle.current().pid());
      try {
        Files.createDirectories(copy);
        try (var walk = Files.walk(runDir.root())) {
          for (Path p : walk.filter(f -> f.getFileName().toString().endsWith(".log")
              || f.getFileName().toString().equals("progress")).toList()) {
            Path target = copy.resolve(runDir.root().relativize(p).toString().replace('/', '_'));
            Files.copy(p, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
        }
      } catch (IOException e) {
        return Path.of("(could not copy: " + e.getMessage() + ")");
      }
      return copy;
    }

    private Process startDaemon(RunDir runDir) throws IOException {
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> command = new ArrayList<>(List.of("/usr/bin/setsid", java,
          "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-Xmx512m",
          "-cp", System.getProperty("java.class.path"), SandboxCli.class.getName(),
          "daemon", "--run-dir", runDir.root().toString()));
      ProcessBuilder builder = new ProcessBuilder(command)
          .redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.daemonLog().toFile()))
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      builder.environment().put("MESHWORK_HOME", home().toString());
      Process daemon = builder.start();
      new Journal(runDir.journal()).record("pid", Long.toString(daemon.pid()),
          Commands.startTime(daemon.pid()).orElse("0"), "daemon");
      return daemon;
    }

    /** Prints the daemon's progress until it says ready or failed, or dies. */
    private String follow(RunDir runDir, Process daemon, PrintWriter out) throws IOException, InterruptedException {
      long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
      long offset = 0;
      StringBuilder partial = new StringBuilder();
      while (true) {
        if (Files.exists(runDir.progress())) {
          try (RandomAccessFile file = new RandomAccessFile(runDir.progress().toFile(), "r")) {
            if (file.length() > offset) {
              file.seek(offset);
              byte[] bytes = new byte[(int) (file.length() - offset)];
              file.readFully(bytes);
              offset += bytes.length;
              partial.append(new String(bytes, StandardCharsets.UTF_8));
            }
          }
          int newline;
          while ((newline = partial.indexOf("\n")) >= 0) {
            String line = partial.substring(0, newline);
            partial.delete(0, newline + 1);
            if (line.equals(READY)) {
              return READY;
            }
            if (line.startsWith(FAILED)) {
              return line.substring(FAILED.length());
            }
            out.println(line);
            out.flush();
          }
        }
        if (!daemon.isAlive()) {
          return "the sandbox daemon exited (code " + daemon.exitValue() + ") before the mesh was ready; see "
              + runDir.daemonLog();
        }
        if (System.nanoTime() > deadline) {
          return "not ready after " + timeoutSeconds + " s (--timeout)";
        }
        Thread.sleep(100);
      }
    }
  }

  /** The process that holds the API servers and kubelet shims while the sandbox is up. */
  @Command(name = "daemon", hidden = true, description = "Internal: the sandbox's long-running process.")
  static final class Daemon implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();

    @Override
    public Integer call() throws Exception {
      RunDir runDir = dir.runDir();
      MeshSpec mesh = MeshSpec.read(runDir.meshFile());
      String prefix = Files.readString(runDir.prefixFile()).strip();
      Path progress = runDir.progress();
      java.util.function.Consumer<String> report = line -> {
        try {
          Files.writeString(progress, line + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      };
      Sandbox sandbox;
      try {
        sandbox = Sandbox.upPrepared(mesh, runDir, prefix, home(), report);
      } catch (SandboxException e) {
        report.accept(FAILED + e.getMessage());
        return 1;
      } catch (RuntimeException e) {
        report.accept(FAILED + "unexpected error: " + e);
        throw e;
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("sandbox-stop").unstarted(() -> {
        sandbox.stopAll();
        stopped.countDown();
      }));
      report.accept(READY);
      stopped.await();
      return Integer.MIN_VALUE; // the JVM is exiting already; do not call System.exit again
    }
  }

  // ---- down, status ----------------------------------------------------------------------------------

  @Command(name = "down", description = "Stop everything and remove every namespace, link, pin and the run directory.")
  static final class Down implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      requireRoot();
      PrintWriter out = spec.commandLine().getOut();
      Teardown.run(dir.runDir(), line -> {
        out.println(line);
        out.flush();
      });
      return 0;
    }
  }

  @Command(name = "status", description = "Show the clusters, nodes, processes and pods of the sandbox.")
  static final class Status implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      RunDir runDir = dir.runDir();
      PrintWriter out = spec.commandLine().getOut();
      if (!Files.exists(runDir.meshFile())) {
        out.println("no sandbox in " + runDir.root());
        return 1;
      }
      MeshSpec mesh = MeshSpec.read(runDir.meshFile());
      String prefix = Files.readString(runDir.prefixFile()).strip();
      String last = Files.exists(runDir.progress())
          ? Files.readAllLines(runDir.progress()).stream().reduce((a, b) -> b).orElse("starting") : "starting";
      out.println("run dir   " + runDir.root() + " (prefix " + prefix + ", underlay " + mesh.underlay()
          + ", host " + mesh.hostAddress() + ", clustermesh source " + mesh.clustermeshSource().flag() + ")");
      out.println("state     " + last);
      boolean allAlive = true;
      out.println();
      out.printf("%-28s %-8s %s%n", "PROCESS", "PID", "STATE");
      for (Journal.Entry e : new Journal(runDir.journal()).entries()) {
        if (e.kind().equals("pid")) {
          long pid = Long.parseLong(e.field(0));
          String what = String.join(" ", e.fields().subList(2, e.fields().size()));
          boolean alive = Commands.alive(pid, e.field(1));
          out.printf("%-28s %-8d %s%n", what, pid, alive ? "running" : "exited");
          allAlive &= alive || !latest(runDir, what, pid);
        }
      }
      if (!allAlive) {
        out.println("\nnot healthy: a process above has exited (a crashed sandbox); `meshwork-sandbox down --run-dir "
            + runDir.root() + "` removes everything");
      }
      out.println();
      out.printf("%-20s %-4s %-14s %-14s %s%n", "CLUSTER", "ID", "POD CIDR", "SERVICE CIDR", "KUBECONFIG");
      for (MeshSpec.Cluster c : mesh.clusters()) {
        out.printf("%-20s %-4d %-14s %-14s %s%n", c.name(), c.id(), c.podCidr(), c.serviceCidr(),
            runDir.kubeconfig(c.name()));
      }
      out.println();
      out.printf("%-20s %-12s %-16s %s%n", "CLUSTER", "NODE", "ADDRESS", "AGENT SOCKET");
      for (MeshSpec.Cluster c : mesh.clusters()) {
        for (String node : c.nodes()) {
          out.printf("%-20s %-12s %-16s %s%n", c.name(), node, mesh.nodeAddress(node), runDir.agentSocket(node));
        }
      }
      out.println();
      out.printf("%-20s %-40s %-12s %s%n", "CLUSTER", "POD", "NODE", "IP");
      for (MeshSpec.Cluster c : mesh.clusters()) {
        for (PodRecord pod : PodRecord.readAll(runDir.pods(c.name()))) {
          out.printf("%-20s %-40s %-12s %s%n", c.name(), pod.namespace() + "/" + pod.name(), pod.node(), pod.ip());
        }
      }
      return allAlive && last.equals(READY) ? 0 : 3;
    }

    // A restarted process (agent restart) leaves its old pid in the journal; only the newest counts.
    private static boolean latest(RunDir runDir, String what, long pid) throws IOException {
      long newest = -1;
      for (Journal.Entry e : new Journal(runDir.journal()).entries()) {
        if (e.kind().equals("pid") && String.join(" ", e.fields().subList(2, e.fields().size())).equals(what)) {
          newest = Long.parseLong(e.field(0));
        }
      }
      return newest == pid;
    }
  }

  // ---- apply, exec -------------------------------------------------------------------------------------

  @Command(name = "apply", description = "Create or replace every object of a manifest file in a cluster.")
  static final class Apply implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE", description = "Manifest file (YAML, several documents).")
    List<Path> files;

    @Option(names = "--cluster", required = true, paramLabel = "NAME", description = "The cluster to apply to.")
    String cluster;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      try (KubernetesClient client = Manifests.client(dir.runDir(), cluster)) {
        for (Path file : files) {
          for (String line : Manifests.apply(client, file)) {
            out.println(line);
          }
        }
      }
      return 0;
    }
  }

  @Command(name = "exec", description = {
      "Run a command in a pod's network namespace (its /etc/hosts resolves service names).",
      "POD may be a Deployment's name: its first pod is used. Example:",
      "  meshwork-sandbox exec k8s-test-cluster/testing/frontend -- wget -qO- http://backend-svc.testing.svc.cluster.local"})
  static final class Exec implements Callable<Integer> {
    @CommandLine.Mixin RunDirOption dir = new RunDirOption();

    @Parameters(index = "0", paramLabel = "CLUSTER/[NAMESPACE/]POD")
    String target;

    @Parameters(index = "1..*", paramLabel = "CMD", arity = "1..*", description = "The command (after --).")
    List<String> command;

    @Override
    public Integer call() throws Exception {
      requireRoot();
      PodRecord pod = PodExec.find(dir.runDir(), PodExec.Target.parse(target));
      Process process = new ProcessBuilder(PodExec.command(pod, command)).inheritIO().start();
      return process.waitFor();
    }
  }
}
