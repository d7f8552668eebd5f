package dev.meshwork.bench.datapath;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Network namespaces {@code mwd-<random>-<role>} for the scenario benchmarks (root only): nodes,
 * pods wired to a node by a veth pair the way the agent wires them, and processes run inside them.
 * {@link #close()} stops the processes and deletes every namespace it created.
 */
final class ScratchNetwork implements AutoCloseable {
  private final String prefix = "mwd-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();

  /** The random prefix of every namespace, also used for temporary files and the bpffs mount. */
  String prefix() {
    return prefix;
  }

  /** A new namespace {@code <prefix>-<role>} with its loopback up. */
  String namespace(String role) throws Exception {
    String name = prefix + "-" + role;
    ScratchNode.run("ip", "netns", "add", name);
    namespaces.add(name);
    exec(name, "ip", "link", "set", "lo", "up");
    return name;
  }

  /** A pod namespace whose {@code eth0} pairs with {@code lxc-<name>} in {@code node}, routed via 169.254.1.1. */
  String pod(String name, String node, String ip) throws Exception {
    return pod(name, node, ip, List.of());
  }

  /** As {@link #pod(String, String, String)}, with the pod's {@code eth0} at the given MTU. */
  String pod(String name, String node, String ip, int mtu) throws Exception {
    return pod(name, node, ip, List.of("mtu", Integer.toString(mtu)));
  }

  private String pod(String name, String node, String ip, List<String> linkOptions) throws Exception {
    String ns = namespace("pod-" + name);
    exec(node, "ip", "link", "add", "lxc-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns);
    exec(node, "ip", "link", "set", "lxc-" + name, "up");
    List<String> up = new ArrayList<>(List.of("ip", "link", "set", "eth0"));
    up.addAll(linkOptions);
    up.add("up");
    exec(ns, up.toArray(String[]::new));
    exec(ns, "ip", "addr", "add", ip + "/32", "dev", "eth0");
    exec(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
    exec(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
    return ns;
  }

  /** Runs a command in a namespace to completion; its output, or an error with the output. */
  String exec(String ns, String... command) throws IOException, InterruptedException {
    List<String> full = inNamespace(ns, command);
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IOException(String.join(" ", full) + " failed: " + out);
    return out;
  }

  /** Starts a command in a namespace; it is stopped on {@link #close()}. */
  Process start(String ns, String... command) throws IOException {
    Process p = new ProcessBuilder(inNamespace(ns, command)).redirectErrorStream(true).start();
    processes.add(p);
    return p;
  }

  private static List<String> inNamespace(String ns, String... command) {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + ns));
    full.addAll(List.of(command));
    return full;
  }

  @Override
  public void close() throws Exception {
    for (Process p : processes) {
      p.destroy();
      p.waitFor();
    }
    for (String ns : namespaces) ScratchNode.run("ip", "netns", "del", ns);
  }
}
