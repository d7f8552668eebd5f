package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real pod runtime: a network namespace {@code /run/netns/<netns>} per pod, attached by the
 * CNI plugin as kubelet would ({@link CniClient}), one {@code busybox httpd} per served port
 * started with {@code ip netns exec} (so it is the recorded pid itself), serving a directory whose
 * {@code index.html} is the pod's name, and the name files in {@code /etc/netns/<netns>/}.
 */
final class NetnsPodRuntime implements PodRuntime {

  private static final Logger log = LoggerFactory.getLogger(NetnsPodRuntime.class);
  static final Path BUSYBOX = Path.of("/bin/busybox");
  static final Path ETC_NETNS = Path.of("/etc/netns");
  private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(3);

  private final PodStore store;
  private final CniClient cni;
  /** Per sandbox (its directory): port → the server process. */
  private final Map<Path, Map<Integer, Process>> servers = new ConcurrentHashMap<>();

  NetnsPodRuntime(PodStore store, CniClient cni) {
    this.store = store;
    this.cni = cni;
  }

  /** Fails fast when a tool the runtime needs is missing. */
  static void checkTools() {
    if (!Files.isExecutable(BUSYBOX)) {
      throw new IllegalStateException(
          BUSYBOX + " is missing: the kubelet shim runs busybox httpd in every pod (apt-get install busybox-static)");
    }
    if (!Command.run("ip", "-V").succeeded()) {
      throw new IllegalStateException("`ip` (iproute2) is missing: the kubelet shim creates network namespaces with it");
    }
  }

  @Override
  public Attachment attach(Sandbox sandbox) throws PodRuntimeException {
    if (!Files.exists(Path.of("/run/netns", sandbox.netns()))) {
      run(sandbox, "ip", "netns", "add", sandbox.netns());
      run(sandbox, "ip", "-n", sandbox.netns(), "link", "set", "lo", "up");
    }
    try {
      String result = cni.add(sandbox.conflist(), attachmentOf(sandbox, true));
      return new Attachment(CniClient.firstIpv4(result), result);
    } catch (CniException e) {
      throw new PodRuntimeException(sandbox + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void detach(Sandbox sandbox, String prevResult) throws PodRuntimeException {
    boolean netnsExists = Files.exists(Path.of("/run/netns", sandbox.netns()));
    try {
      cni.del(sandbox.conflist(), attachmentOf(sandbox, netnsExists), prevResult);
    } catch (CniException e) {
      throw new PodRuntimeException(sandbox + ": " + e.getMessage(), e);
    }
  }

  private static CniClient.Attachment attachmentOf(Sandbox sandbox, boolean withNetns) {
    return new CniClient.Attachment(
        sandbox.containerId(),
        withNetns ? sandbox.netnsPath().toString() : "",
        "eth0",
        CniClient.podArgs(sandbox.namespace(), sandbox.name(), sandbox.containerId(), sandbox.uid()));
  }

  @Override
  public void writeNameFiles(Sandbox sandbox, String hosts, String resolvConf) throws IOException {
    Path dir = ETC_NETNS.resolve(sandbox.netns());
    Files.createDirectories(dir);
    // Temporaries live beside the directory: `ip netns exec` bind-mounts every file inside it.
    writeAtomically(ETC_NETNS.resolve("." + sandbox.netns() + ".hosts.tmp"), dir.resolve("hosts"), hosts);
    writeAtomically(ETC_NETNS.resolve("." + sandbox.netns() + ".resolv.tmp"), dir.resolve("resolv.conf"), resolvConf);
  }

  private static void writeAtomically(Path temp, Path file, String content) throws IOException {
    Files.writeString(temp, content);
    Files.move(temp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public void serve(Sandbox sandbox, String answer, Set<Integer> ports) throws PodRuntimeException {
    Path www = sandbox.dir().resolve("www");
    Map<Integer, Process> running = servers.computeIfAbsent(sandbox.dir(), d -> new TreeMap<>());
    synchronized (running) {
      try {
        Files.createDirectories(www);
        Path index = www.resolve("index.html");
        if (!Files.exists(index) || !Files.readString(index).equals(answer + "\n")) {
          PodStore.writeAtomically(index, answer + "\n");
        }
        for (var it = running.entrySet().iterator(); it.hasNext(); ) {
          var server = it.next();
          if (!ports.contains(server.getKey())) {
            ServerProcesses.stop(server.getValue().toHandle());
            store.forgetProcess(sandbox, server.getKey());
            it.remove();
          }
        }
        for (int port : ports) {
          Process process = running.get(port);
          if (process != null && process.isAlive()) {
            continue;
          }
          if (process != null) {
            log.warn("{}: the server on port {} exited with status {}; starting it again",
                sandbox, port, process.exitValue());
          }
          Path logFile = sandbox.dir().resolve("httpd-" + port + ".log");
          process =
              new ProcessBuilder(
                      "ip", "netns", "exec", sandbox.netns(),
                      BUSYBOX.toString(), "httpd", "-f", "-p", Integer.toString(port), "-h", www.toString())
                  .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                  .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                  .redirectErrorStream(true)
                  .start();
          running.put(port, process);
          String startTime = ServerProcesses.startTime(process.pid()).orElse("");
          store.recordProcess(sandbox, new PodStore.RecordedProcess(port, process.pid(), startTime));
        }
      } catch (IOException e) {
        throw new PodRuntimeException(sandbox + ": cannot start its servers on ports " + ports + ": " + e.getMessage(), e);
      }
    }
  }

  @Override
  public boolean accepts(Sandbox sandbox, String ip, int port) {
    try {
      // No -T: busybox 1.35's wget crashes on a refused connection with a timeout set.
      return Command.run(
              List.of("ip", "netns", "exec", sandbox.netns(),
                  BUSYBOX.toString(), "wget", "-q", "-O", "/dev/null", "http://" + ip + ":" + port + "/"),
              PROBE_TIMEOUT)
          .succeeded();
    } catch (RuntimeException e) {
      return false;
    }
  }

  @Override
  public void remove(Sandbox sandbox) {
    Map<Integer, Process> running = servers.remove(sandbox.dir());
    if (running != null) {
      synchronized (running) {
        running.values().forEach(p -> ServerProcesses.stop(p.toHandle()));
      }
    }
    removeLeftovers(sandbox.dir(), sandbox.netns());
  }

  /**
   * Stops the recorded processes of a pod directory (if still the same processes), deletes the
   * netns and its {@code /etc/netns} directory. Used for {@link #remove} and after a crash.
   */
  static void removeLeftovers(Path podDir, String netns) {
    for (PodStore.RecordedProcess process : PodStore.processes(podDir)) {
      ServerProcesses.stop(process.pid(), process.startTime());
    }
    if (netns == null || !netns.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      log.warn("pod record {} names no valid network namespace ({}); nothing to delete", podDir, netns);
      return;
    }
    if (Files.exists(Path.of("/run/netns", netns))) {
      CommandResult deleted = Command.run(List.of("ip", "netns", "delete", netns), COMMAND_TIMEOUT);
      if (!deleted.succeeded()) {
        log.warn("cannot delete network namespace {}: {}", netns, deleted.stderr().strip());
      }
    }
    try {
      PodStore.deleteTree(ETC_NETNS.resolve(netns));
      Files.deleteIfExists(ETC_NETNS.resolve("." + netns + ".hosts.tmp"));
      Files.deleteIfExists(ETC_NETNS.resolve("." + netns + ".resolv.tmp"));
    } catch (IOException e) {
      log.warn("cannot delete {}: {}", ETC_NETNS.resolve(netns), e.toString());
    }
  }

  private static void run(Sandbox sandbox, String... command) throws PodRuntimeException {
    CommandResult result;
    try {
      result = Command.run(List.of(command), COMMAND_TIMEOUT);
    } catch (RuntimeException e) {
      throw new PodRuntimeException(sandbox + ": `" + String.join(" ", command) + "` failed: " + e.getMessage(), e);
    }
    if (!result.succeeded()) {
      throw new PodRuntimeException(
          sandbox + ": `" + String.join(" ", command) + "` failed (exit " + result.exitCode() + "): " + result.stderr().strip());
    }
  }
}
