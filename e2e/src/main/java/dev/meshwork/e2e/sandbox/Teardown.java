package dev.meshwork.e2e.sandbox;

import dev.meshwork.e2e.sandbox.kubelet.KubeletShim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Removes everything a sandbox's journal names, whether the sandbox stopped cleanly or crashed:
 * the daemon and every recorded process (by pid and start time), the pods (through the kubelet
 * shim's records), network namespaces, the host link, bpffs pins, and finally the run directory.
 * Running it twice is harmless.
 */
public final class Teardown {
  private Teardown() {}

  public static void run(RunDir runDir, Consumer<String> out) throws IOException {
    if (!Files.isDirectory(runDir.root())) {
      out.accept("nothing to remove: " + runDir.root() + " does not exist");
      return;
    }
    String prefix = Files.exists(runDir.prefixFile()) ? Files.readString(runDir.prefixFile()).strip() : null;
    List<Journal.Entry> entries = new Journal(runDir.journal()).entries();

    // The daemon first, gracefully: it deletes the pods through CNI while the agents still run.
    for (Journal.Entry e : entries) {
      if (e.kind().equals("pid") && e.field(2).equals("daemon")) {
        long pid = Long.parseLong(e.field(0));
        if (Commands.stop(pid, e.field(1), 60_000)) {
          out.accept("stopped the sandbox daemon (pid " + pid + ")");
        }
      }
    }
    List<Thread> stopping = new ArrayList<>();
    for (Journal.Entry e : entries) {
      if (e.kind().equals("pid") && !e.field(2).equals("daemon")) {
        long pid = Long.parseLong(e.field(0));
        String what = String.join(" ", e.fields().subList(2, e.fields().size()));
        stopping.add(Thread.ofPlatform().start(() -> {
          if (Commands.stop(pid, e.field(1), 10_000)) {
            out.accept("stopped " + what + " (pid " + pid + ")");
          }
        }));
      }
    }
    for (Thread t : stopping) {
      try {
        t.join();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
    }

    // Pods: whatever the kubelet shim recorded (processes, pod namespaces, /etc/netns entries).
    Path clusters = runDir.root().resolve("clusters");
    if (Files.isDirectory(clusters)) {
      try (Stream<Path> dirs = Files.list(clusters)) {
        for (Path cluster : dirs.toList()) {
          Path pods = cluster.resolve("pods");
          if (Files.isDirectory(pods)) {
            KubeletShim.cleanUp(pods);
          }
        }
      }
    }

    List<Journal.Entry> reversed = new ArrayList<>(entries);
    java.util.Collections.reverse(reversed);
    for (Journal.Entry e : reversed) {
      switch (e.kind()) {
        case "netns" -> {
          String ns = e.field(0);
          if (prefix != null && !ns.startsWith(prefix)) {
            out.accept("skipped namespace " + ns + ": not of this sandbox's prefix " + prefix);
          } else if (Files.exists(Underlay.netnsPath(ns))) {
            Commands.runQuietly("ip", "netns", "delete", ns);
            out.accept("deleted network namespace " + ns);
          }
          deleteTree(Path.of("/etc/netns", ns));
        }
        case "link" -> {
          String link = e.field(0);
          if (Files.exists(Path.of("/sys/class/net", link))) {
            Commands.runQuietly("ip", "link", "delete", link);
            out.accept("deleted host link " + link);
          }
        }
        case "mount" -> {
          Path mount = Path.of(e.field(0));
          if (mount.startsWith(runDir.root()) && mounted(mount)) {
            Commands.runQuietly("umount", mount.toString());
            out.accept("unmounted " + mount);
          }
        }
        case "bpffs" -> {
          Path pins = Path.of(e.field(0));
          if (pins.startsWith("/sys/fs/bpf/") && pins.getNameCount() > 3 && Files.exists(pins)) {
            deleteTree(pins);
            out.accept("removed bpffs pins " + pins);
          }
        }
        default -> { }
      }
    }
    deleteTree(runDir.root());
    out.accept("removed " + runDir.root());
  }

  private static boolean mounted(Path mount) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] fields = line.split(" ");
      if (fields.length > 1 && fields[1].equals(mount.toString())) {
        return true;
      }
    }
    return false;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
