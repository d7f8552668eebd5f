package dev.meshwork.datapath.bpf;

import dev.meshwork.datapath.DatapathException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The node's network devices through iproute2 and bpftool (the rare setup steps: devices,
 * program load, tc attachment). Commands run in the node's namespace: the agent's own, or one
 * given by path through {@code nsenter --net=} (which, unlike {@code ip netns exec}, keeps
 * /sys/fs/bpf visible).
 */
final class NodeNetwork {
  /** A link in the node's namespace. */
  record Link(String name, int ifindex, byte[] mac) {}

  private static final Pattern IFINDEX = Pattern.compile("^\\{\"ifindex\":(\\d+),");
  private static final Pattern IFNAME = Pattern.compile("\"ifname\":\"([^\"]+)\"");
  private static final Pattern ADDRESS = Pattern.compile("\"address\":\"([0-9a-f:]{17})\"");

  private final List<String> prefix;

  NodeNetwork(Optional<Path> netns) {
    this.prefix = netns.map(p -> List.of("nsenter", "--net=" + p)).orElse(List.of());
  }

  /** Runs a command in the node's namespace; returns stdout, throws with stderr on failure. */
  String run(List<String> command, String stdin) throws DatapathException {
    List<String> full = new ArrayList<>(prefix);
    full.addAll(command);
    String shown = String.join(" ", full);
    try {
      Process p = new ProcessBuilder(full).start();
      if (stdin != null) {
        try (OutputStream in = p.getOutputStream()) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      } else {
        p.getOutputStream().close();
      }
      byte[] out = p.getInputStream().readAllBytes();
      byte[] err = p.getErrorStream().readAllBytes();
      if (!p.waitFor(60, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new DatapathException("'" + shown + "' did not finish within 60 s");
      }
      if (p.exitValue() != 0) {
        throw new DatapathException(
            "'" + shown + "' exited " + p.exitValue() + ": "
                + new String(err, StandardCharsets.UTF_8).trim() + " "
                + new String(out, StandardCharsets.UTF_8).trim());
      }
      return new String(out, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new DatapathException("cannot run '" + shown + "': " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new DatapathException("interrupted while running '" + shown + "'", e);
    }
  }

  String run(String... command) throws DatapathException {
    return run(List.of(command), null);
  }

  /** Every link of the namespace by name. */
  Map<String, Link> links() throws DatapathException {
    return parseLinks(run("ip", "-j", "link", "show"));
  }

  /** Reads {@code ip -j link show} output: name, ifindex and MAC of every link with a MAC. */
  static Map<String, Link> parseLinks(String json) {
    Map<String, Link> links = new HashMap<>();
    for (String object : json.split("(?=\\{\"ifindex\":)")) {
      Matcher index = IFINDEX.matcher(object);
      Matcher name = IFNAME.matcher(object);
      Matcher address = ADDRESS.matcher(object);
      if (index.find() && name.find() && address.find()) {
        links.put(name.group(1), new Link(name.group(1), Integer.parseInt(index.group(1)), parseMac(address.group(1))));
      }
    }
    return links;
  }

  static byte[] parseMac(String text) {
    String[] parts = text.split(":");
    byte[] mac = new byte[6];
    for (int i = 0; i < 6; i++) mac[i] = (byte) Integer.parseInt(parts[i], 16);
    return mac;
  }

  /** Creates the VXLAN device in external (collect_md) mode if missing, and sets it up. */
  Link ensureVxlan(String device, int port) throws DatapathException {
    Link link = links().get(device);
    if (link == null) {
      try {
        run("ip", "link", "add", device, "type", "vxlan", "external", "dstport", Integer.toString(port));
      } catch (DatapathException e) {
        throw new DatapathException(
            "capability missing: VXLAN in external mode (device " + device + ", UDP " + port + "): "
                + e.getMessage(), e);
      }
      link = links().get(device);
      if (link == null) throw new DatapathException("VXLAN device " + device + " vanished after creation");
    }
    run("ip", "link", "set", device, "up");
    // Replies to clients outside the mesh come back decapsulated with a source that is this
    // node's own address (the NodePort address they used) and leave through the stack: accept
    // local sources and skip the reverse-path filter on the tunnel device.
    run("sysctl", "-q", "-w", "net.ipv4.conf." + device + ".accept_local=1",
        "net.ipv4.conf." + device + ".rp_filter=0");
    return link;
  }

  /** Attaches pinned programs as direct-action tc filters (ingress and/or egress) in one tc run. */
  void attach(List<Attachment> attachments) throws DatapathException {
    if (attachments.isEmpty()) return;
    StringBuilder batch = new StringBuilder();
    for (Attachment a : attachments) {
      batch.append("qdisc replace dev ").append(a.device()).append(" clsact\n");
      if (a.ingress() != null) {
        batch.append("filter replace dev ").append(a.device())
            .append(" ingress pref 1 handle 1 bpf direct-action object-pinned ").append(a.ingress()).append('\n');
      }
      if (a.egress() != null) {
        batch.append("filter replace dev ").append(a.device())
            .append(" egress pref 1 handle 1 bpf direct-action object-pinned ").append(a.egress()).append('\n');
      }
    }
    run(List.of("tc", "-batch", "-"), batch.toString());
  }

  /** Removes our programs from a device, if it still exists. */
  void detach(String device) throws DatapathException {
    if (links().containsKey(device)) {
      run("tc", "qdisc", "del", "dev", device, "clsact");
    }
  }

  /** Programs to put on one device; null for a direction left alone. */
  record Attachment(String device, Path ingress, Path egress) {}
}
