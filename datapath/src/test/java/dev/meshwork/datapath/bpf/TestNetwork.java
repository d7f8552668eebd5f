package dev.meshwork.datapath.bpf;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for one test, named {@code mwt-<random>-<role>} so that nothing collides
 * with other tests or the host; {@link #close} ends the processes started here (by pid) and
 * deletes the namespaces, which takes their veths along. (A private helper: the shared
 * dev.meshwork.testing.netns helper did not exist yet when this was written.)
 */
final class TestNetwork implements AutoCloseable {
  private final String prefix = "mwt-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  String prefix() {
    return prefix;
  }

  /** Creates namespace {@code <prefix>-<role>} with lo up; returns its name. */
  String namespace(String role) throws IOException {
    String name = prefix + "-" + role;
    Privileged.run("ip", "netns", "add", name);
    namespaces.add(name);
    exec(name, "ip", "link", "set", "lo", "up");
    return name;
  }

  static Path path(String namespace) {
    return Path.of("/run/netns", namespace);
  }

  /** Runs a command inside a namespace (nsenter keeps /sys/fs/bpf visible). */
  String exec(String namespace, String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=" + path(namespace)));
    full.addAll(List.of(command));
    return Privileged.run(full);
  }

  /** Starts a long-running process inside a namespace; it is ended by pid on close. */
  Process start(String namespace, String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=" + path(namespace)));
    full.addAll(List.of(command));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    processes.add(p);
    return p;
  }

  /** A veth pair: {@code a} in namespace {@code nsA}, {@code b} in {@code nsB}, both up. */
  void veth(String nsA, String a, String nsB, String b) throws IOException {
    if (nsA.equals(nsB)) {
      exec(nsA, "ip", "link", "add", a, "type", "veth", "peer", "name", b);
    } else {
      exec(nsA, "ip", "link", "add", a, "type", "veth", "peer", "name", b, "netns", nsB);
    }
    exec(nsA, "ip", "link", "set", a, "up");
    exec(nsB, "ip", "link", "set", b, "up");
  }

  /** Namespaces of this test that still exist (for the cleanup assertion). */
  List<String> leftovers() throws IOException {
    String all = Privileged.run("ip", "netns", "list");
    return namespaces.stream().filter(all::contains).toList();
  }

  void stop(Process p) throws InterruptedException {
    p.destroy();
    if (!p.waitFor(5, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      p.waitFor(5, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes) stop(p);
    for (String ns : namespaces) {
      try {
        Privileged.run("ip", "netns", "del", ns);
      } catch (IOException e) {
        // already gone
      }
    }
  }
}
