package dev.meshwork.datapath.bpf;

import dev.meshwork.testing.netns.NetworkNamespaces;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Network namespaces for one test (created and deleted by the shared {@link NetworkNamespaces},
 * named {@code mwt-datapath-<random>-<role>}), plus what the datapath tests do in them: veths
 * across namespaces, commands through {@code nsenter --net=} (which keeps /sys/fs/bpf visible),
 * and long-running processes that {@link #close} ends by pid before deleting the namespaces.
 */
final class TestNetwork implements AutoCloseable {
  private final NetworkNamespaces namespaces = new NetworkNamespaces("datapath");
  private final List<Process> processes = new ArrayList<>();

  String prefix() {
    return namespaces.prefix();
  }

  /** Creates namespace {@code <prefix>-<role>} with lo up; returns its name. */
  String namespace(String role) {
    return namespaces.create(role).name();
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

  void stop(Process p) {
    p.destroy();
    try {
      if (!p.waitFor(5, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      p.destroyForcibly();
    }
  }

  @Override
  public void close() {
    try {
      for (Process p : processes) stop(p);
    } finally {
      namespaces.close();
    }
  }
}
