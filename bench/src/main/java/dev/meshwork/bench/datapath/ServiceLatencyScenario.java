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
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Connection-setup latency from a pod to a ClusterIP when 1, 1,000 or 10,000 services are
 * programmed, through our eBPF programs and, beside it, through a kube-proxy-style nftables
 * baseline (one concatenated {@code ip daddr . tcp dport} DNAT map, pods routed by the node's
 * stack).
 *
 * <p>Built to decide "within 10 %" on a busy shared machine. All six configurations (two modes
 * × three sizes) exist at once, each its own node namespace with a client and a server pod, so
 * nothing is re-programmed between measurements. The run is many short rounds; a round measures
 * every configuration once, in a new random order, so drift and other jobs' load fall on all
 * configurations alike. A compiled probe ({@code connprobe.c}) times each connect (SYN sent to
 * established) and reports the round's median, p90 and its own CPU time. For the eBPF nodes the
 * kernel's run-time statistics give the time spent inside our programs per connection, which
 * waiting for a core does not inflate. Per configuration the scenario prints the median of the
 * per-round values; per mode the ratios 1,000/1 and 10,000/1 with a paired bootstrap 95 %
 * confidence interval and the verdict "within 10 %" only when the whole interval lies in
 * [0.9, 1.1].
 *
 * <p>With the optional argument {@code realtime} the probe clients run in the real-time class
 * ({@code chrt -f 10}), so other jobs' ordinary processes cannot preempt a connect; the kernel's
 * real-time throttling still leaves them 5 % of each CPU, and the probe pauses between rounds.
 *
 * <p>The probed service is the last one programmed. Needs root and a C compiler; everything
 * lives in namespaces {@code mwd-*}, a private bpffs under /tmp and a temporary directory, all
 * removed afterwards.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp ...
 * dev.meshwork.bench.datapath.ServiceLatencyScenario [rounds] [connects per round] [realtime]}
 */
public final class ServiceLatencyScenario {
  private static final int[] SIZES = {1, 1000, 10000};
  private static final String[] MODES = {"ebpf", "nftables"};
  private static final int WARMUP_CONNECTS = 10; // per configuration and round, not counted
  private static final int WARMUP_ROUNDS = 2; // whole rounds, not counted
  private static final int SERVER_PORT = 8080;
  private static final long BOOTSTRAP_SEED = 1;

  /** One node with its pods and its running probe client. */
  private record Configuration(
      String mode, int services, PrintWriter commands, BufferedReader results, List<Path> programs) {
    String label() {
      return mode + "/" + services;
    }
  }

  /** The per-round values of one configuration. */
  private record Rounds(double[] medianUs, double[] p90Us, double[] clientCpuUs, double[] programNs, double[] programRuns) {
    Rounds(int rounds) {
      this(new double[rounds], new double[rounds], new double[rounds], new double[rounds], new double[rounds]);
    }
  }

  private final ScratchNetwork network = new ScratchNetwork();
  private final Path work = Path.of("/tmp", network.prefix() + "-work");
  private final Path bpffs = Path.of("/tmp", network.prefix() + "-bpffs");
  private final List<BpfDatapath> datapaths = new ArrayList<>();
  private boolean bpffsMounted;

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 100;
    int connects = args.length > 1 ? Integer.parseInt(args[1]) : 250;
    boolean realtime = args.length > 2 && args[2].equals("realtime");
    if (args.length > 2 && !realtime) throw new IllegalArgumentException("third argument: only 'realtime', not " + args[2]);
    if (rounds < 2 || connects < 1) throw new IllegalArgumentException("rounds must be ≥ 2 and connects ≥ 1");
    // Each probe binds a new source port per connect; staying inside one pass of its 64,512
    // ports keeps every SYN a new flow for the datapath's conntrack.
    if ((long) (rounds + WARMUP_ROUNDS) * (connects + WARMUP_CONNECTS) > 64_512) {
      throw new IllegalArgumentException("at most 64,512 connects per configuration (rounds + 2) × (connects + 10)");
    }
    ServiceLatencyScenario scenario = new ServiceLatencyScenario();
    try {
      scenario.run(rounds, connects, realtime);
    } finally {
      scenario.cleanUp();
    }
  }

  private static String clusterIp(int i) {
    return "10.96." + (i >> 8) + "." + (i & 255);
  }

  private void run(int rounds, int connects, boolean realtime) throws Exception {
    Path probe = compileProbe();
    Files.createDirectories(bpffs);
    ScratchNode.run("mount", "-t", "bpf", "bpf", bpffs.toString());
    bpffsMounted = true;
    List<Configuration> configurations = new ArrayList<>();
    for (String mode : MODES) {
      for (int services : SIZES) configurations.add(configure(probe, mode, services, realtime));
    }
    long orderSeed = System.nanoTime();
    Random order = new Random(orderSeed);
    List<Rounds> results = new ArrayList<>();
    for (int i = 0; i < configurations.size(); i++) results.add(new Rounds(rounds));
    String loadBefore = Files.readString(Path.of("/proc/loadavg")).trim();
    try (ProgramRunTime runTime = new ProgramRunTime()) {
      for (int round = -WARMUP_ROUNDS; round < rounds; round++) {
        List<Integer> sequence = new ArrayList<>();
        for (int i = 0; i < configurations.size(); i++) sequence.add(i);
        Collections.shuffle(sequence, order);
        List<ProgramRunTime.Sample> before = new ArrayList<>();
        for (Configuration c : configurations) before.add(c.programs().isEmpty() ? null : runTime.read(c.programs()));
        double[][] measured = new double[configurations.size()][];
        for (int i : sequence) measured[i] = measureRound(configurations.get(i), connects);
        if (round < 0) continue;
        for (int i = 0; i < configurations.size(); i++) {
          Configuration c = configurations.get(i);
          Rounds r = results.get(i);
          r.medianUs()[round] = measured[i][0] / 1e3;
          r.p90Us()[round] = measured[i][1] / 1e3;
          r.clientCpuUs()[round] = measured[i][2] / 1e3 / (connects + WARMUP_CONNECTS);
          if (!c.programs().isEmpty()) {
            ProgramRunTime.Sample spent = runTime.read(c.programs()).minus(before.get(i));
            r.programNs()[round] = (double) spent.runTimeNs() / (connects + WARMUP_CONNECTS);
            r.programRuns()[round] = (double) spent.runs() / (connects + WARMUP_CONNECTS);
          }
        }
      }
    }
    String loadAfter = Files.readString(Path.of("/proc/loadavg")).trim();
    report(configurations, results, rounds, connects, realtime, orderSeed, loadBefore, loadAfter);
  }

  /** Compiles connprobe.c into the work directory; the scenario's only native helper. */
  private Path compileProbe() throws IOException, InterruptedException {
    Files.createDirectories(work);
    Path source = work.resolve("connprobe.c");
    try (InputStream in = getClass().getResourceAsStream("connprobe.c")) {
      if (in == null) throw new IOException("resource connprobe.c is missing from the bench classpath");
      Files.copy(in, source, StandardCopyOption.REPLACE_EXISTING);
    }
    Path binary = work.resolve("connprobe");
    Process cc;
    try {
      cc = new ProcessBuilder("cc", "-O2", "-Wall", "-Werror", "-o", binary.toString(), source.toString())
          .redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new IOException("ServiceLatencyScenario needs a C compiler (cc) for its probe: apt-get install gcc", e);
    }
    String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (cc.waitFor() != 0) throw new IOException("compiling " + source + " failed: " + out);
    return binary;
  }

  /** A node namespace with a client and a server pod, N services to the server, and the probes started. */
  private Configuration configure(Path probe, String mode, int services, boolean realtime) throws Exception {
    String tag = (mode.equals("ebpf") ? "e" : "n") + services;
    String clientIp = "10.1.1.5";
    String serverIp = "10.1.1.6";
    String node = network.namespace(tag);
    String client = network.pod(tag + "c", node, clientIp);
    String server = network.pod(tag + "s", node, serverIp);
    List<Path> programs = List.of();
    if (mode.equals("ebpf")) {
      BpfDatapathConfig config = BpfDatapathConfig.forNode("latency-" + tag)
          .withBpffsRoot(bpffs.resolve("meshwork"))
          .withNetns(Path.of("/run/netns", node))
          .withMapSizes(new BpfDatapathConfig.MapSizes(1024, 32768, 1024, 16384, 262144, 1024, 64, 64, 64));
      BpfDatapath datapath = BpfDatapath.open(config);
      datapaths.add(datapath);
      ChangeSet.Builder cs = ChangeSet.builder();
      cs.upsert(new Endpoint(1, Ipv4.parse(clientIp), "lxc-" + tag + "c", 0x10101, false, false));
      cs.upsert(new Endpoint(2, Ipv4.parse(serverIp), "lxc-" + tag + "s", 0x10102, false, false));
      cs.upsert(new IpCacheEntry(IpPrefix.parse(clientIp + "/32"), 0x10101, 0));
      cs.upsert(new IpCacheEntry(IpPrefix.parse(serverIp + "/32"), 0x10102, 0));
      L4Address backend = new L4Address(Ipv4.parse(serverIp), SERVER_PORT, Protocol.TCP);
      for (int i = 1; i <= services; i++) {
        cs.upsert(new Service(new L4Address(Ipv4.parse(clusterIp(i)), 80, Protocol.TCP), Service.Kind.CLUSTER_IP, i, List.of(backend), 0));
      }
      datapath.apply(cs.build());
      programs = ProgramRunTime.pinnedPrograms(config.nodeDirectory());
    } else {
      network.exec(node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
      for (String[] pod : new String[][] {{"lxc-" + tag + "c", clientIp}, {"lxc-" + tag + "s", serverIp}}) {
        network.exec(node, "ip", "addr", "add", "169.254.1.1/32", "dev", pod[0]);
        network.exec(node, "ip", "route", "add", pod[1] + "/32", "dev", pod[0]);
      }
      StringBuilder nft = new StringBuilder("table ip mwdbench {\n map svc {\n  type ipv4_addr . inet_service : ipv4_addr . inet_service\n  elements = { ");
      for (int i = 1; i <= services; i++) {
        if (i > 1) nft.append(", ");
        nft.append(clusterIp(i)).append(" . 80 : ").append(serverIp).append(" . ").append(SERVER_PORT);
      }
      nft.append(" }\n }\n chain pre {\n  type nat hook prerouting priority dstnat;\n  dnat ip addr . port to ip daddr . tcp dport map @svc\n }\n}\n");
      Path rules = work.resolve(tag + ".nft");
      Files.writeString(rules, nft);
      try {
        network.exec(node, "nft", "-f", rules.toString());
      } finally {
        Files.deleteIfExists(rules);
      }
    }
    Process serverProbe = network.start(server, probe.toString(), "serve", Integer.toString(SERVER_PORT));
    String ready = new BufferedReader(new InputStreamReader(serverProbe.getInputStream(), StandardCharsets.UTF_8)).readLine();
    if (!"ready".equals(ready)) throw new IOException("probe server in " + server + " did not start: " + ready);
    Process clientProbe = realtime
        ? network.start(client, "chrt", "-f", "10", probe.toString(), "measure")
        : network.start(client, probe.toString(), "measure");
    return new Configuration(mode, services,
        new PrintWriter(clientProbe.getOutputStream(), true, StandardCharsets.UTF_8),
        new BufferedReader(new InputStreamReader(clientProbe.getInputStream(), StandardCharsets.UTF_8)),
        programs);
  }

  /** One round of one configuration: {median ns, p90 ns, client CPU ns of the round}. */
  private static double[] measureRound(Configuration c, int connects) throws IOException {
    c.commands().printf("%s 80 %d %d%n", clusterIp(c.services()), WARMUP_CONNECTS, connects);
    String line = c.results().readLine();
    String[] fields = line == null ? new String[0] : line.trim().split(" ");
    if (fields.length != 3) throw new IOException("probe client of " + c.label() + " failed: " + line);
    return new double[] {Double.parseDouble(fields[0]), Double.parseDouble(fields[1]), Double.parseDouble(fields[2])};
  }

  private static void report(List<Configuration> configurations, List<Rounds> results, int rounds, int connects,
      boolean realtime, long orderSeed, String loadBefore, String loadAfter) {
    System.out.printf("%d rounds (+%d warm-up) × 6 configurations in random order (seed %d), %d timed connects "
        + "(+%d warm-up) per configuration and round, probe clients %s; /proc/loadavg before: %s, after: %s%n",
        rounds, WARMUP_ROUNDS, orderSeed, connects, WARMUP_CONNECTS,
        realtime ? "real-time (chrt -f 10)" : "in the normal class", loadBefore, loadAfter);
    System.out.println("medians over the rounds of: the round's median and p90 connect time, the client's CPU "
        + "per connect, the time in our programs per connect and their runs per connect");
    System.out.println("mode      services  median_us  (IQR of round medians)  p90_us  client_cpu_us  prog_ns  prog_runs");
    for (int i = 0; i < configurations.size(); i++) {
      Configuration c = configurations.get(i);
      Rounds r = results.get(i);
      boolean ebpf = !c.programs().isEmpty();
      System.out.printf("%-9s %8d  %9.1f  (%.1f–%.1f)  %17.1f  %13.2f  %7s  %9s%n", c.mode(), c.services(),
          RoundStatistics.median(r.medianUs()), RoundStatistics.quantile(r.medianUs(), 0.25),
          RoundStatistics.quantile(r.medianUs(), 0.75), RoundStatistics.median(r.p90Us()),
          RoundStatistics.median(r.clientCpuUs()),
          ebpf ? String.format("%.0f", RoundStatistics.median(r.programNs())) : "-",
          ebpf ? String.format("%.1f", RoundStatistics.median(r.programRuns())) : "-");
    }
    System.out.println("ratios to 1 service, median of round values, paired bootstrap 95 % CI over rounds:");
    for (int m = 0; m < MODES.length; m++) {
      Rounds one = results.get(m * SIZES.length);
      for (int s = 1; s < SIZES.length; s++) {
        Rounds other = results.get(m * SIZES.length + s);
        String what = MODES[m] + " " + SIZES[s] + "/1";
        System.out.printf("%-17s connect median %s%n", what,
            RoundStatistics.ratioOfMedians(other.medianUs(), one.medianUs(), BOOTSTRAP_SEED));
        System.out.printf("%-17s client CPU     %s%n", what,
            RoundStatistics.ratioOfMedians(other.clientCpuUs(), one.clientCpuUs(), BOOTSTRAP_SEED));
        if (MODES[m].equals("ebpf")) {
          System.out.printf("%-17s program ns     %s%n", what,
              RoundStatistics.ratioOfMedians(other.programNs(), one.programNs(), BOOTSTRAP_SEED));
        }
      }
    }
  }

  /** Stops the probes, removes the datapaths (programs and pins), the bpffs mount, the namespaces and files. */
  private void cleanUp() throws Exception {
    List<Exception> failures = new ArrayList<>();
    for (BpfDatapath datapath : datapaths) {
      try {
        datapath.destroy();
      } catch (Exception e) {
        failures.add(e);
      }
    }
    try {
      if (bpffsMounted) ScratchNode.run("umount", bpffs.toString());
      Files.deleteIfExists(bpffs);
    } catch (Exception e) {
      failures.add(e);
    }
    try {
      network.close();
    } catch (Exception e) {
      failures.add(e);
    }
    if (Files.isDirectory(work)) {
      try (var files = Files.list(work)) {
        for (Path f : files.toList()) Files.delete(f);
      }
      Files.delete(work);
    }
    if (!failures.isEmpty()) {
      Exception first = failures.getFirst();
      failures.stream().skip(1).forEach(first::addSuppressed);
      throw first;
    }
  }
}
