package dev.meshwork.e2e.cni;

import dev.meshwork.agent.endpoint.EndpointLinks;
import dev.meshwork.agent.endpoint.PodRef;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * CNI ADD end to end as kubelet sees it (docs/benchmarks.md, "CNI"): the installed {@code
 * meshwork-cni} launcher starts a JVM per call (with the AOT cache) and talks to the agent's
 * endpoint side ({@link NodeAgentFixture}: the real EndpointManager with the link manager chosen
 * by the fifth argument, netlink (default) or ip, in a node namespace, FakeDatapath) on its Unix
 * socket. Pod namespaces are created before the clock starts. Besides latencies it prints the CPU
 * time per ADD of the whole tree (this JVM, which is the agent's side, and the plugin processes it
 * reaped), which is steadier than latencies on a shared machine.
 *
 * <ol>
 *   <li>{@code warmups} untimed ADD+DEL pairs through the plugin, so that the agent's side runs
 *       compiled code as in an agent that has been up for a while (the plugin processes are new
 *       JVMs either way);
 *   <li>{@code sequential} ADDs, each timed from process start to exit, each followed by an
 *       untimed DEL;
 *   <li>{@code rounds} rounds of {@code concurrent} ADDs started together, each timed from the
 *       common start to its exit; all are deleted between rounds.
 * </ol>
 *
 * Run as root from the checkout root, after {@code ./mvnw -pl cni-plugin -am package}: {@code java
 * -cp <e2e test classpath> dev.meshwork.e2e.cni.CniAddBenchmark 30 20 5 300 netlink 100} (sequential
 * ADDs, concurrent ADDs per round, rounds, pause in ms after each sequential ADD+DEL and each round,
 * so that a run in a real-time scheduling class leaves the CPUs to others now and then; link manager;
 * warm-up ADD+DEL pairs, default 1).
 */
public final class CniAddBenchmark {
  private CniAddBenchmark() {}

  public static void main(String[] args) throws Exception {
    int sequential = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int concurrent = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    long pauseMillis = args.length > 3 ? Long.parseLong(args[3]) : 0;
    EndpointLinks links = args.length > 4 ? EndpointLinks.valueOf(args[4].toUpperCase(Locale.ROOT)) : EndpointLinks.NETLINK;
    int warmups = args.length > 5 ? Integer.parseInt(args[5]) : 1;
    if (!NetworkNamespaces.isRoot()) {
      throw new IllegalStateException("CniAddBenchmark needs root (network namespaces)");
    }
    Checkout.pluginMissing().ifPresent(missing -> {
      throw new IllegalStateException(missing);
    });
    Path dir = Files.createTempDirectory("mwt-ep2-bench-");
    try (NodeAgentFixture node = new NodeAgentFixture("ep2-bench", dir, IpPrefix.parse("10.77.8.0/22"), Duration.ofSeconds(10), links)) {
      CniProcess cni = new CniProcess(node.plugin(), node.conflist());
      int pods = Math.max(sequential, concurrent);
      List<NetworkNamespace> namespaces = new ArrayList<>();
      for (int i = 0; i < pods; i++) {
        namespaces.add(node.namespaces.create("p" + i));
        node.publish(new PodRef("bench", "pod-" + i), 70_000 + i, "k8s:app=bench-" + i);
      }
      // Untimed: the page cache then holds the JVM, the jar and the AOT cache, and (with more than
      // one) the agent's side is compiled, as in a long-running agent.
      for (int i = 0; i < warmups; i++) {
        check(cni.run("ADD", "warm-up", namespaces.get(0).path(), "bench", "pod-0"));
        check(cni.run("DEL", "warm-up", namespaces.get(0).path(), "bench", "pod-0"));
      }

      List<Double> seq = new ArrayList<>();
      long seqCpu = 0;
      for (int i = 0; i < sequential; i++) {
        NetworkNamespace ns = namespaces.get(i);
        long cpuBefore = cpuMillis();
        long start = System.nanoTime();
        check(cni.run("ADD", "seq-" + i, ns.path(), "bench", "pod-" + i));
        seq.add((System.nanoTime() - start) / 1e6);
        seqCpu += cpuMillis() - cpuBefore;
        check(cni.run("DEL", "seq-" + i, ns.path(), "bench", "pod-" + i));
        Thread.sleep(pauseMillis);
      }
      report("sequential ADD, plugin process + agent (" + links.name().toLowerCase(Locale.ROOT) + ")", seq);
      reportCpu("sequential ADD", seqCpu, sequential);

      List<Double> conc = new ArrayList<>();
      long concCpu = 0;
      try (ExecutorService pool = Executors.newFixedThreadPool(concurrent)) {
        for (int round = 0; round < rounds; round++) {
          CountDownLatch go = new CountDownLatch(1);
          List<Future<Double>> futures = new ArrayList<>();
          long[] start = new long[1];
          for (int i = 0; i < concurrent; i++) {
            int pod = i;
            String id = "conc-" + round + "-" + i;
            futures.add(pool.submit(() -> {
              go.await();
              check(cni.run("ADD", id, namespaces.get(pod).path(), "bench", "pod-" + pod));
              return (System.nanoTime() - start[0]) / 1e6;
            }));
          }
          long cpuBefore = cpuMillis();
          start[0] = System.nanoTime();
          go.countDown();
          for (Future<Double> f : futures) {
            conc.add(f.get());
          }
          concCpu += cpuMillis() - cpuBefore;
          for (int i = 0; i < concurrent; i++) {
            check(cni.run("DEL", "conc-" + round + "-" + i, namespaces.get(i).path(), "bench", "pod-" + i));
          }
          Thread.sleep(pauseMillis);
        }
      }
      report(concurrent + " concurrent ADDs, plugin process + agent", conc);
      reportCpu(concurrent + " concurrent ADDs", concCpu, concurrent * rounds);
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(Collections.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static void check(CniProcess.Run run) {
    if (run.exit() != 0) {
      throw new IllegalStateException("meshwork-cni failed: " + run);
    }
  }

  private static void report(String name, List<Double> millis) {
    List<Double> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    System.out.printf(Locale.ROOT, "%s: n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms min=%.1f ms max=%.1f ms%n", name,
        sorted.size(), percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99), sorted.getFirst(),
        sorted.getLast());
  }

  private static void reportCpu(String name, long cpuMillis, int adds) {
    System.out.printf(Locale.ROOT, "%s: CPU per ADD (plugin JVM + agent side) %.1f ms%n", name, cpuMillis / (double) adds);
  }

  /** utime + stime + cutime + cstime of this process (cutime/cstime: reaped children) from /proc/self/stat, in ms. */
  private static long cpuMillis() throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = 0;
    for (int field = 14; field <= 17; field++) {
      ticks += Long.parseLong(fields[field - 3]); // fields[0] is field 3 (state); a tick is 10 ms
    }
    return ticks * 10;
  }

  /** Nearest-rank percentile. */
  private static double percentile(List<Double> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }
}
