package dev.meshwork.e2e.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The sandbox's network: a namespace {@code PREFIX-ul} holding a bridge, one namespace per node
 * attached to the bridge with its underlay address on {@code eth0}, and one veth from the host
 * ({@code PREFIX-h}, the underlay's .1) where the etcds and API servers listen. The host gets a
 * route to the underlay /24 only; pod CIDRs exist only inside the node and pod namespaces.
 */
final class Underlay {

  private final MeshSpec mesh;
  private final String prefix;
  private final Journal journal;

  Underlay(MeshSpec mesh, String prefix, Journal journal) {
    this.mesh = mesh;
    this.prefix = prefix;
    this.journal = journal;
  }

  String underlayNamespace() {
    return prefix + "-ul";
  }

  String hostLink() {
    return prefix + "-h";
  }

  String nodeNamespace(String node) {
    return prefix + "-" + node;
  }

  static Path netnsPath(String namespace) {
    return Path.of("/run/netns", namespace);
  }

  void create() throws IOException {
    String ul = underlayNamespace();
    refuseExisting(ul);
    journal.record("netns", ul);
    Commands.run("ip", "netns", "add", ul);
    Commands.run("ip", "-n", ul, "link", "set", "lo", "up");
    Commands.run("ip", "-n", ul, "link", "add", "br0", "type", "bridge");
    Commands.run("ip", "-n", ul, "link", "set", "br0", "up");

    String host = hostLink();
    if (Files.exists(Path.of("/sys/class/net", host))) {
      throw new IOException("a link " + host + " already exists on the host: another sandbox with prefix "
          + prefix + " runs (meshwork-sandbox down, or another --prefix)");
    }
    journal.record("link", host);
    Commands.run("ip", "link", "add", host, "type", "veth", "peer", "name", "host", "netns", ul);
    Commands.run("ip", "-n", ul, "link", "set", "host", "master", "br0", "up");
    Commands.run("ip", "addr", "add", mesh.hostAddress() + "/24", "dev", host);
    Commands.run("ip", "link", "set", host, "up");
  }

  void addNode(String node, int index) throws IOException {
    String ns = nodeNamespace(node);
    refuseExisting(ns);
    journal.record("netns", ns);
    Commands.run("ip", "netns", "add", ns);
    String port = "n" + index;
    Commands.run("ip", "-n", underlayNamespace(), "link", "add", port, "type", "veth", "peer", "name", "eth0",
        "netns", ns);
    Commands.run("ip", "-n", underlayNamespace(), "link", "set", port, "master", "br0", "up");
    Commands.run("ip", "-n", ns, "link", "set", "lo", "up");
    Commands.run("ip", "-n", ns, "addr", "add", mesh.nodeAddress(node) + "/24", "dev", "eth0");
    Commands.run("ip", "-n", ns, "link", "set", "eth0", "up");
    // A node forwards between its pods' veths and the tunnel, like any Kubernetes node.
    Commands.run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1",
        "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0");
  }

  private static void refuseExisting(String namespace) throws IOException {
    if (Files.exists(netnsPath(namespace))) {
      throw new IOException("network namespace " + namespace + " already exists: another sandbox with this prefix "
          + "runs, or one crashed (meshwork-sandbox down --run-dir ... removes it)");
    }
  }
}
