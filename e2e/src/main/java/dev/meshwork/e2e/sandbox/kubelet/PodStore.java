package dev.meshwork.e2e.sandbox.kubelet;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The pod records of one cluster's run directory: {@code <runDir>/pods/<namespace>_<name>/} holds
 * {@code pod.properties} (the sandbox, then its IP), {@code cni-result.json} (the ADD result, sent
 * back as {@code prevResult} on DEL) and {@code processes.properties} (port = pid and start time
 * of each server process). Every file is replaced atomically, so a crash leaves either the old or
 * the new content.
 */
final class PodStore {

  private static final String CNI_RESULT = "cni-result.json";
  private static final String PROCESSES = "processes.properties";

  private final Path runDir;

  PodStore(Path runDir) {
    this.runDir = runDir;
  }

  Path runDir() {
    return runDir;
  }

  /** {@code _} separates the two because neither a namespace nor a pod name may contain it. */
  static Path podDir(Path runDir, String namespace, String name) {
    return runDir.resolve(PodRecord.PODS).resolve(namespace + "_" + name);
  }

  static List<Path> podDirs(Path runDir) {
    Path pods = runDir.resolve(PodRecord.PODS);
    if (!Files.isDirectory(pods)) {
      return List.of();
    }
    try (Stream<Path> list = Files.list(pods)) {
      return list.filter(Files::isDirectory).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list pod records in " + pods, e);
    }
  }

  static Optional<Properties> readProperties(Path podDir) {
    return readPropertiesFile(podDir.resolve(PodRecord.PROPERTIES));
  }

  private static Optional<Properties> readPropertiesFile(Path file) {
    try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      Properties properties = new Properties();
      properties.load(reader);
      return Optional.of(properties);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read pod record " + file, e);
    }
  }

  /** A new sandbox: the pod's directory, the record without an IP. Call before creating anything. */
  Sandbox create(
      String namespace, String name, String uid, String node, Path conflist, String netns, String containerId)
      throws IOException {
    Path dir = podDir(runDir, namespace, name);
    Files.createDirectories(dir);
    Sandbox sandbox = new Sandbox(namespace, name, uid, node, conflist, netns, containerId, dir);
    writeRecord(sandbox, null);
    return sandbox;
  }

  /** Adds the pod's IP and the CNI result to its record. */
  void recordAttachment(Sandbox sandbox, String ip, String cniResult) throws IOException {
    writeAtomically(sandbox.dir().resolve(CNI_RESULT), cniResult);
    writeRecord(sandbox, ip);
  }

  /** Drops the IP and the CNI result after a DEL. */
  void forgetAttachment(Sandbox sandbox) throws IOException {
    writeRecord(sandbox, null);
    Files.deleteIfExists(sandbox.dir().resolve(CNI_RESULT));
  }

  Optional<String> cniResult(Sandbox sandbox) {
    try {
      return Optional.of(Files.readString(sandbox.dir().resolve(CNI_RESULT)));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the CNI result of " + sandbox, e);
    }
  }

  /** Every recorded sandbox (e.g. left behind by a crashed shim). */
  List<Sandbox> sandboxes() {
    List<Sandbox> all = new ArrayList<>();
    for (Path dir : podDirs(runDir)) {
      readProperties(dir).ifPresent(p -> all.add(sandboxOf(dir, p)));
    }
    all.sort(Comparator.comparing(Sandbox::key));
    return all;
  }

  static Sandbox sandboxOf(Path dir, Properties p) {
    String conflist = p.getProperty("conflist");
    return new Sandbox(
        p.getProperty("namespace"),
        p.getProperty("name"),
        p.getProperty("uid"),
        p.getProperty("node"),
        conflist == null ? null : Path.of(conflist),
        p.getProperty("netns"),
        p.getProperty("containerId"),
        dir);
  }

  /** A server process the shim started for the sandbox, recorded with its start time (pid reuse). */
  record RecordedProcess(int port, long pid, String startTime) {}

  synchronized void recordProcess(Sandbox sandbox, RecordedProcess process) throws IOException {
    TreeMap<Integer, RecordedProcess> all = processesByPort(sandbox.dir());
    all.put(process.port(), process);
    writeProcesses(sandbox.dir(), all);
  }

  synchronized void forgetProcess(Sandbox sandbox, int port) throws IOException {
    TreeMap<Integer, RecordedProcess> all = processesByPort(sandbox.dir());
    if (all.remove(port) != null) {
      writeProcesses(sandbox.dir(), all);
    }
  }

  static List<RecordedProcess> processes(Path podDir) {
    return List.copyOf(processesByPort(podDir).values());
  }

  private static TreeMap<Integer, RecordedProcess> processesByPort(Path podDir) {
    TreeMap<Integer, RecordedProcess> all = new TreeMap<>();
    readPropertiesFile(podDir.resolve(PROCESSES))
        .ifPresent(
            p ->
                p.stringPropertyNames()
                    .forEach(
                        port -> {
                          String[] pidAndStart = p.getProperty(port).split(" ", 2);
                          all.put(
                              Integer.parseInt(port),
                              new RecordedProcess(
                                  Integer.parseInt(port),
                                  Long.parseLong(pidAndStart[0]),
                                  pidAndStart.length > 1 ? pidAndStart[1] : ""));
                        }));
    return all;
  }

  private static void writeProcesses(Path podDir, TreeMap<Integer, RecordedProcess> all)
      throws IOException {
    Properties p = new Properties();
    all.values().forEach(r -> p.setProperty(Integer.toString(r.port()), r.pid() + " " + r.startTime()));
    writeAtomically(podDir.resolve(PROCESSES), store(p, "server processes: port = pid start-time"));
  }

  /** Deletes the pod's directory with everything in it. */
  void delete(Sandbox sandbox) throws IOException {
    deleteTree(sandbox.dir());
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private void writeRecord(Sandbox sandbox, String ip) throws IOException {
    Properties p = new Properties();
    p.setProperty("namespace", sandbox.namespace());
    p.setProperty("name", sandbox.name());
    p.setProperty("uid", sandbox.uid());
    p.setProperty("node", sandbox.node());
    if (sandbox.conflist() != null) {
      p.setProperty("conflist", sandbox.conflist().toString());
    }
    p.setProperty("netns", sandbox.netns());
    p.setProperty("containerId", sandbox.containerId());
    if (ip != null) {
      p.setProperty("ip", ip);
    }
    writeAtomically(sandbox.dir().resolve(PodRecord.PROPERTIES), store(p, "pod sandbox of the kubelet shim"));
  }

  private static String store(Properties p, String comment) throws IOException {
    StringWriter out = new StringWriter();
    p.store(out, comment);
    return out.toString();
  }

  static void writeAtomically(Path file, String content) throws IOException {
    Path temp = file.resolveSibling("." + file.getFileName() + ".tmp");
    Files.writeString(temp, content, StandardCharsets.UTF_8);
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
