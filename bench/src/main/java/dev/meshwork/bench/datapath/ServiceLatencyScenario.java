package dev.meshwork.bench.datapath;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.datapath.bpf.BpfDatapath;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Connection-setup latency from a pod to a ClusterIP when 1, 1,000 or 10,000 services are
 * programmed, through our eBPF programs and, beside it, through a kube-proxy-style nftables
 * baseline (one concatenated {@code ip daddr . tcp dport} DNAT map, pods routed by the node's
 * stack). One node namespace with a client and a server pod; the service probed is the last one
 * programmed. Needs root; everything lives in namespaces {@code mwb-*} and a private bpffs, all
 * removed afterwards.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp ... dev.meshwork.bench.datapath.ServiceLatencyScenario [connects]}
 */
public final class ServiceLatencyScenario {
  private static final String CLIENT_IP = "10.1.1.5";
  private static final String SERVER_IP = "10.1.1.6";

  private final String prefix = "mwb-" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x10000, 0xfffff));
  private final List<String> namespaces = new ArrayList<>();
  private final List<Process> processes = new ArrayList<>();
  private Path script;

  public static void main(String[] args) throws Exception {
    int connects = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    System.out.println("mode      services  median_us  p90_us  p99_us");
    for (int services : new int[] {1, 1000, 10000}) {
      for (String mode : new String[] {"ebpf", "nftables"}) {
        ServiceLatencyScenario s = new ServiceLatencyScenario();
        try {
          String result = s.run(mode, services, connects);
          System.out.printf("%-9s %8d  %s%n", mode, services, result.replace(' ', '\t'));
        } finally {
          s.cleanUp();
        }
      }
    }
  }

  private static String clusterIp(int i) {
    return "10.96." + (i >> 8) + "." + (i & 255);
  }

  private String run(String mode, int services, int connects) throws Exception {
    script = Files.createTempFile(prefix, ".py");
    try (InputStream in = getClass().getResourceAsStream("latency.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    String node = namespace("node");
    String client = pod("c", node, CLIENT_IP);
    String server = pod("s", node, SERVER_IP);
    BpfDatapath datapath = null;
    Path bpffs = Path.of("/tmp", prefix + "-bpffs");
    try {
      if (mode.equals("ebpf")) {
        Files.createDirectories(bpffs);
        ScratchNode.run("mount", "-t", "bpf", "bpf", bpffs.toString());
        datapath = BpfDatapath.open(BpfDatapathConfig.forNode("latency")
            .withBpffsRoot(bpffs.resolve("meshwork"))
            .withNetns(Path.of("/run/netns", node))
            .withMapSizes(new BpfDatapathConfig.MapSizes(1024, 32768, 1024, 16384, 65536, 1024, 64, 64, 64)));
        ChangeSet.Builder cs = ChangeSet.builder();
        cs.upsert(new Endpoint(1, Ipv4.parse(CLIENT_IP), "lxc-c", 0x10101, false, false));
        cs.upsert(new Endpoint(2, Ipv4.parse(SERVER_IP), "lxc-s", 0x10102, false, false));
        cs.upsert(new IpCacheEntry(IpPrefix.parse(CLIENT_IP + "/32"), 0x10101, 0));
        cs.upsert(new IpCacheEntry(IpPrefix.parse(SERVER_IP + "/32"), 0x10102, 0));
        L4Address backend = new L4Address(Ipv4.parse(SERVER_IP), 8080, Protocol.TCP);
        for (int i = 1; i <= services; i++) {
          cs.upsert(new Service(new L4Address(Ipv4.parse(clusterIp(i)), 80, Protocol.TCP), Service.Kind.CLUSTER_IP, i, List.of(backend), 0));
        }
        datapath.apply(cs.build());
      } else {
        exec(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        for (String[] pod : new String[][] {{"lxc-c", CLIENT_IP}, {"lxc-s", SERVER_IP}}) {
          exec(node, "ip", "addr", "add", "169.254.1.1/32", "dev", pod[0]);
          exec(node, "ip", "route", "add", pod[1] + "/32", "dev", pod[0]);
        }
        StringBuilder nft = new StringBuilder("table ip mwbench {\n map svc {\n  type ipv4_addr . inet_service : ipv4_addr . inet_service\n  elements = { ");
        for (int i = 1; i <= services; i++) {
          if (i > 1) nft.append(", ");
          nft.append(clusterIp(i)).append(" . 80 : ").append(SERVER_IP).append(" . 8080");
        }
        nft.append(" }\n }\n chain pre {\n  type nat hook prerouting priority dstnat;\n  dnat ip addr . port to ip daddr . tcp dport map @svc\n }\n}\n");
        Path rules = Files.createTempFile(prefix, ".nft");
        Files.writeString(rules, nft);
        try {
          exec(node, "nft", "-f", rules.toString());
        } finally {
          Files.deleteIfExists(rules);
        }
      }
      Process srv = start(server, "python3", "-u", script.toString(), "serve", "8080");
      String ready = new BufferedReader(new InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8)).readLine();
      if (!"ready".equals(ready)) throw new IOException("server did not start: " + ready);
      return exec(client, "python3", script.toString(), "measure", clusterIp(services), "80", Integer.toString(connects)).trim();
    } finally {
      if (datapath != null) {
        datapath.destroy();
        ScratchNode.run("umount", bpffs.toString());
        Files.deleteIfExists(bpffs);
      }
    }
  }

  private String namespace(String role) throws Exception {
    String name = prefix + "-" + role;
    ScratchNode.run("ip", "netns", "add", name);
    namespaces.add(name);
    exec(name, "ip", "link", "set", "lo", "up");
    return name;
  }

  private String pod(String name, String node, String ip) throws Exception {
    String ns = namespace("pod-" + name);
    exec(node, "ip", "link", "add", "lxc-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns);
    exec(node, "ip", "link", "set", "lxc-" + name, "up");
    exec(ns, "ip", "link", "set", "eth0", "up");
    exec(ns, "ip", "addr", "add", ip + "/32", "dev", "eth0");
    exec(ns, "ip", "route", "add", "169.254.1.1", "dev", "eth0", "scope", "link");
    exec(ns, "ip", "route", "add", "default", "via", "169.254.1.1", "dev", "eth0");
    return ns;
  }

  private static String exec(String ns, String... command) throws IOException, InterruptedException {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + ns));
    full.addAll(List.of(command));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) throw new IOException(String.join(" ", full) + " failed: " + out);
    return out;
  }

  private Process start(String ns, String... command) throws IOException {
    List<String> full = new ArrayList<>(List.of("nsenter", "--net=/run/netns/" + ns));
    full.addAll(List.of(command));
    Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
    processes.add(p);
    return p;
  }

  private void cleanUp() throws Exception {
    for (Process p : processes) {
      p.destroy();
      p.waitFor();
    }
    for (String ns : namespaces) ScratchNode.run("ip", "netns", "del", ns);
    if (script != null) Files.deleteIfExists(script);
  }
}
