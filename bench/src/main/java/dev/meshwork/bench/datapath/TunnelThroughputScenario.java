package dev.meshwork.bench.datapath;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
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

/**
 * Cross-node TCP throughput pod → pod through the VXLAN tunnel: with our eBPF programs (external
 * VXLAN device, identity in the VNI) and, beside it, plain kernel VXLAN routing without any
 * program (a VNI-42 device per node with a static remote, routes through the node's stack). Two
 * node namespaces on an underlay veth (198.18.230.1/.2), one pod each, pod MTU 1450 (underlay 1500
 * minus the 50 bytes of VXLAN). Runs {@code pairs} transfers of each mode, alternating, each in
 * fresh nodes, and prints the medians. Needs root; everything is removed afterwards.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp ... dev.meshwork.bench.datapath.TunnelThroughputScenario [seconds] [pairs]}
 */
public final class TunnelThroughputScenario {
  private final ScratchNetwork network = new ScratchNetwork();

  public static void main(String[] args) throws Exception {
    double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
    int pairs = args.length > 1 ? Integer.parseInt(args[1]) : 2;
    double[] ebpf = new double[pairs];
    double[] routing = new double[pairs];
    for (int i = 0; i < pairs; i++) {
      ebpf[i] = measure("ebpf", seconds);
      routing[i] = measure("vxlan-routing", seconds);
    }
    System.out.printf("median of %d: ebpf %.2f Gbit/s, vxlan-routing %.2f Gbit/s, ratio of medians %.2f%n", pairs,
        RoundStatistics.median(ebpf), RoundStatistics.median(routing), RoundStatistics.median(ebpf) / RoundStatistics.median(routing));
  }

  /** One transfer in a fresh pair of nodes, printed and returned in Gbit/s. */
  private static double measure(String mode, double seconds) throws Exception {
    TunnelThroughputScenario s = new TunnelThroughputScenario();
    try {
      double gbits = s.run(mode, seconds);
      System.out.printf("%-14s %.2f Gbit/s%n", mode, gbits);
      return gbits;
    } finally {
      s.cleanUp();
    }
  }

  private double run(String mode, double seconds) throws Exception {
    Path script = Files.createTempFile(network.prefix(), ".py");
    try (InputStream in = getClass().getResourceAsStream("bulk.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    String node1 = network.namespace("n1");
    String node2 = network.namespace("n2");
    network.exec(node1, "ip", "link", "add", "ul0", "type", "veth", "peer", "name", "ul0", "netns", node2);
    network.exec(node1, "ip", "addr", "add", "198.18.230.1/24", "dev", "ul0");
    network.exec(node2, "ip", "addr", "add", "198.18.230.2/24", "dev", "ul0");
    network.exec(node1, "ip", "link", "set", "ul0", "up");
    network.exec(node2, "ip", "link", "set", "ul0", "up");
    String pod1 = network.pod("a", node1, "10.1.1.5", 1450);
    String pod2 = network.pod("b", node2, "10.2.0.7", 1450);
    List<BpfDatapath> datapaths = new ArrayList<>();
    Path bpffs = Path.of("/tmp", network.prefix() + "-bpffs");
    try {
      if (mode.equals("ebpf")) {
        Files.createDirectories(bpffs);
        ScratchNode.run("mount", "-t", "bpf", "bpf", bpffs.toString());
        int n1 = Ipv4.parse("198.18.230.1");
        int n2 = Ipv4.parse("198.18.230.2");
        for (String[] node : new String[][] {{"n1", node1, "lxc-a", "10.1.1.5"}, {"n2", node2, "lxc-b", "10.2.0.7"}}) {
          BpfDatapath dp = BpfDatapath.open(BpfDatapathConfig.forNode(node[0])
              .withBpffsRoot(bpffs.resolve("meshwork"))
              .withNetns(Path.of("/run/netns", node[1]))
              .withMapSizes(BpfDatapathConfig.MapSizes.uniform(4096)));
          datapaths.add(dp);
          boolean first = node[0].equals("n1");
          dp.apply(ChangeSet.builder()
              .upsert(new Endpoint(1, Ipv4.parse(node[3]), node[2], first ? 0x10101 : 0x20105, false, false))
              .upsert(new IpCacheEntry(IpPrefix.parse("10.1.1.5/32"), 0x10101, first ? 0 : n1))
              .upsert(new IpCacheEntry(IpPrefix.parse("10.2.0.7/32"), 0x20105, first ? n2 : 0))
              .build());
        }
      } else {
        String[][] nodes = {{node1, "198.18.230.1", "198.18.230.2", "10.255.0.1", "10.255.0.2", "10.2.0.0/24", "lxc-a", "10.1.1.5"},
            {node2, "198.18.230.2", "198.18.230.1", "10.255.0.2", "10.255.0.1", "10.1.1.0/24", "lxc-b", "10.2.0.7"}};
        for (String[] n : nodes) {
          network.exec(n[0], "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
          network.exec(n[0], "ip", "link", "add", "vx0", "type", "vxlan", "id", "42", "dstport", "8472", "local", n[1], "remote", n[2]);
          network.exec(n[0], "ip", "addr", "add", n[3] + "/24", "dev", "vx0");
          network.exec(n[0], "ip", "link", "set", "vx0", "up");
          network.exec(n[0], "ip", "route", "add", n[5], "via", n[4], "dev", "vx0");
          network.exec(n[0], "ip", "addr", "add", "169.254.1.1/32", "dev", n[6]);
          network.exec(n[0], "ip", "route", "add", n[7] + "/32", "dev", n[6]);
        }
      }
      Process sink = network.start(pod2, "python3", "-u", script.toString(), "sink", "5001");
      BufferedReader out = new BufferedReader(new InputStreamReader(sink.getInputStream(), StandardCharsets.UTF_8));
      if (!"ready".equals(out.readLine())) throw new IOException("sink did not start");
      network.exec(pod1, "python3", script.toString(), "send", "10.2.0.7", "5001", Double.toString(seconds));
      String[] result = out.readLine().trim().split(" ");
      return Long.parseLong(result[0]) * 8 / Double.parseDouble(result[1]) / 1e9;
    } finally {
      for (BpfDatapath dp : datapaths) dp.destroy();
      if (!datapaths.isEmpty()) {
        ScratchNode.run("umount", bpffs.toString());
        Files.deleteIfExists(bpffs);
      }
      Files.deleteIfExists(script);
    }
  }

  private void cleanUp() throws Exception {
    network.close();
  }
}
