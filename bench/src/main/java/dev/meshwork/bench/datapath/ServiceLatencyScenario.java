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
import java.util.List;

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

  private final ScratchNetwork network = new ScratchNetwork();
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
    script = Files.createTempFile(network.prefix(), ".py");
    try (InputStream in = getClass().getResourceAsStream("latency.py")) {
      Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    String node = network.namespace("node");
    String client = network.pod("c", node, CLIENT_IP);
    String server = network.pod("s", node, SERVER_IP);
    BpfDatapath datapath = null;
    Path bpffs = Path.of("/tmp", network.prefix() + "-bpffs");
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
        network.exec(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
        for (String[] pod : new String[][] {{"lxc-c", CLIENT_IP}, {"lxc-s", SERVER_IP}}) {
          network.exec(node, "ip", "addr", "add", "169.254.1.1/32", "dev", pod[0]);
          network.exec(node, "ip", "route", "add", pod[1] + "/32", "dev", pod[0]);
        }
        StringBuilder nft = new StringBuilder("table ip mwbench {\n map svc {\n  type ipv4_addr . inet_service : ipv4_addr . inet_service\n  elements = { ");
        for (int i = 1; i <= services; i++) {
          if (i > 1) nft.append(", ");
          nft.append(clusterIp(i)).append(" . 80 : ").append(SERVER_IP).append(" . 8080");
        }
        nft.append(" }\n }\n chain pre {\n  type nat hook prerouting priority dstnat;\n  dnat ip addr . port to ip daddr . tcp dport map @svc\n }\n}\n");
        Path rules = Files.createTempFile(network.prefix(), ".nft");
        Files.writeString(rules, nft);
        try {
          network.exec(node, "nft", "-f", rules.toString());
        } finally {
          Files.deleteIfExists(rules);
        }
      }
      Process srv = network.start(server, "python3", "-u", script.toString(), "serve", "8080");
      String ready = new BufferedReader(new InputStreamReader(srv.getInputStream(), StandardCharsets.UTF_8)).readLine();
      if (!"ready".equals(ready)) throw new IOException("server did not start: " + ready);
      return network.exec(client, "python3", script.toString(), "measure", clusterIp(services), "80", Integer.toString(connects)).trim();
    } finally {
      if (datapath != null) {
        datapath.destroy();
        ScratchNode.run("umount", bpffs.toString());
        Files.deleteIfExists(bpffs);
      }
    }
  }

  private void cleanUp() throws Exception {
    network.close();
    if (script != null) Files.deleteIfExists(script);
  }
}
