package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Scenario benchmark (not a test; run as root with {@code java -cp ...}): the agent's side of CNI
 * ADD with real veth pairs, inside a private "node" namespace. {@code rounds} rounds of
 * {@code concurrency} pods added at once (latency of each from the common start), after
 * {@code sequential} ADDs one at a time, after five untimed ADD+DELs that warm the JVM up; every
 * pod is deleted again between rounds.
 * Usage: {@code EndpointAddBenchmark [sequential=30] [concurrency=20] [rounds=5] [links=netlink|ip]}.
 * It prints the process's CPU time per ADD+DEL too (steadier than latencies on a shared machine).
 */
public final class EndpointAddBenchmark {
  public static void main(String[] args) throws Exception {
    int sequential = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int concurrency = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    EndpointLinks links = args.length > 3 ? EndpointLinks.valueOf(args[3].toUpperCase(Locale.ROOT)) : EndpointLinks.NETLINK;
    if (!NetworkNamespaces.isRoot()) {
      System.err.println("EndpointAddBenchmark needs root (it creates network namespaces)");
      System.exit(2);
    }
    Path state = Files.createTempDirectory("mwt-endpoint-bench");
    try (NetworkNamespaces namespaces = new NetworkNamespaces("ep-bench")) {
      NetworkNamespace node = namespaces.create("node");
      List<NetworkNamespace> pods = new ArrayList<>();
      for (int i = 0; i < Math.max(sequential, concurrency); i++) {
        pods.add(namespaces.create("pod" + i));
      }
      FakeIdentityResolver identities = new FakeIdentityResolver();
      EndpointManager manager = EndpointManager.open(
          new EndpointConfig(IpPrefix.parse("10.78.0.0/22"), state, 1450, Duration.ofSeconds(5)),
          links.linkManager(Optional.of(node.path())), identities,
          new DatapathEndpointSink(new FakeDatapath()));
      for (int i = 0; i < pods.size(); i++) {
        identities.publish(new PodRef("bench", "pod" + i), new PodIdentity(9000 + i, List.of("k8s:app=bench")));
      }

      for (int i = 0; i < 5; i++) {
        manager.add(request(pods.get(i), i));
        manager.delete(request(pods.get(i), i));
      }
      List<Double> single = new ArrayList<>();
      long cpuBefore = cpuMillis();
      for (int i = 0; i < sequential; i++) {
        CniRequest request = request(pods.get(i), i);
        long start = System.nanoTime();
        manager.add(request);
        single.add((System.nanoTime() - start) / 1e6);
        manager.delete(request);
      }
      long cpu = cpuMillis() - cpuBefore;
      report("sequential ADD (agent side, " + links.name().toLowerCase(Locale.ROOT) + ")", single);
      System.out.printf(Locale.ROOT, "CPU per sequential ADD+DEL (this JVM and its child processes): %.1f ms%n",
          cpu / (double) sequential);

      List<Double> concurrent = new ArrayList<>();
      long concurrentCpuBefore = cpuMillis();
      try (var executor = Executors.newFixedThreadPool(concurrency)) {
        for (int round = 0; round < rounds; round++) {
          CountDownLatch go = new CountDownLatch(1);
          List<Future<Double>> results = new ArrayList<>();
          long[] start = new long[1];
          for (int i = 0; i < concurrency; i++) {
            CniRequest request = request(pods.get(i), i);
            results.add(executor.submit(() -> {
              go.await();
              manager.add(request);
              return (System.nanoTime() - start[0]) / 1e6;
            }));
          }
          start[0] = System.nanoTime();
          go.countDown();
          for (Future<Double> f : results) {
            concurrent.add(f.get());
          }
          for (int i = 0; i < concurrency; i++) {
            manager.delete(request(pods.get(i), i));
          }
        }
      }
      long concurrentCpu = cpuMillis() - concurrentCpuBefore;
      report(concurrency + " concurrent ADDs (agent side)", concurrent);
      System.out.printf(Locale.ROOT, "CPU per concurrent ADD+DEL (this JVM and its child processes): %.1f ms%n",
          concurrentCpu / (double) (concurrency * rounds));
    } finally {
      try (var files = Files.list(state)) {
        for (Path file : files.toList()) {
          Files.delete(file);
        }
      }
      Files.delete(state);
    }
  }

  private static CniRequest request(NetworkNamespace pod, int i) {
    return CniRequest.newBuilder().setContainerId("bench-" + i).setNetns(pod.path().toString()).setIfname("eth0")
        .setNetworkName("meshwork").putArgs("K8S_POD_NAMESPACE", "bench").putArgs("K8S_POD_NAME", "pod" + i).build();
  }

  private static void report(String name, List<Double> millis) {
    List<Double> sorted = new ArrayList<>(millis);
    Collections.sort(sorted);
    System.out.printf(Locale.ROOT, "%s: n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms min=%.1f ms max=%.1f ms%n", name,
        sorted.size(), pct(sorted, 50), pct(sorted, 90), pct(sorted, 99), sorted.getFirst(), sorted.getLast());
  }

  /** utime + stime + cutime + cstime of this process from /proc/self/stat, in ms (clock ticks of 10 ms). */
  private static long cpuMillis() throws java.io.IOException {
    String stat = Files.readString(Path.of("/proc/self/stat"));
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    long ticks = 0;
    for (int field = 14; field <= 17; field++) {
      ticks += Long.parseLong(fields[field - 3]); // fields[0] is field 3 (state)
    }
    return ticks * 10;
  }

  private static double pct(List<Double> sorted, int p) {
    int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
  }
}
