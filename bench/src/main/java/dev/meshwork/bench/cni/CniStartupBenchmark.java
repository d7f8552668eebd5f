package dev.meshwork.bench.cni;

import dev.meshwork.testing.cni.FakeCniAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenario benchmark for the CNI plugin's ADD, end to end including JVM start: runs the real
 * launcher ({@code bin/meshwork-cni}) as kubelet would (a new process, CNI_* environment, config on
 * stdin) against a {@link FakeCniAgent} in this JVM, and reports wall-clock latency per process.
 *
 * <ul>
 *   <li>sequential: one ADD at a time, {@code --runs} times after {@code --warmup} runs;
 *   <li>concurrent: {@code --concurrency} ADDs started at once, {@code --rounds} times; each ADD's
 *       latency is measured from the common start.
 * </ul>
 *
 * Every ADD must succeed with an address no other ADD got. Usage: {@code CniStartupBenchmark
 * <launcher> [--runs 50] [--warmup 5] [--concurrency 20] [--rounds 10] [--add-delay-ms 0]
 * [--pause-ms 0]}.
 */
public final class CniStartupBenchmark {

  private static final Pattern ADDRESS = Pattern.compile("\"address\":\"([0-9.]+/32)\"");

  private final Path launcher;
  private final Path socket;
  private final Set<String> addresses = new HashSet<>();
  private int container;

  private CniStartupBenchmark(Path launcher, Path socket) {
    this.launcher = launcher;
    this.socket = socket;
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: CniStartupBenchmark <bin/meshwork-cni> [--runs N] [--warmup N]"
          + " [--concurrency N] [--rounds N] [--add-delay-ms N]");
      System.exit(2);
    }
    FakeCniAgent.quietLogging();
    Path launcher = Path.of(args[0]).toAbsolutePath();
    int runs = intOption(args, "--runs", 50);
    int warmup = intOption(args, "--warmup", 5);
    int concurrency = intOption(args, "--concurrency", 20);
    int rounds = intOption(args, "--rounds", 10);
    int delay = intOption(args, "--add-delay-ms", 0);
    // A pause between runs and rounds, so that a run under a real-time scheduling class
    // (chrt, see docs/benchmarks.md) never holds the CPUs for long.
    int pause = intOption(args, "--pause-ms", 0);

    Path dir = Files.createTempDirectory("mwcni-bench");
    Path socket = dir.resolve("agent.sock");
    try (FakeCniAgent agent = new FakeCniAgent(socket, delay)) {
      CniStartupBenchmark bench = new CniStartupBenchmark(launcher, socket);
      System.out.printf(Locale.ROOT,
          "launcher %s, fake agent ADD delay %d ms, %d cores, load average %s%n", launcher,
          delay, Runtime.getRuntime().availableProcessors(), loadAverage());
      for (int i = 0; i < warmup; i++) {
        bench.add();
        Thread.sleep(pause);
      }
      long[] sequential = new long[runs];
      for (int i = 0; i < runs; i++) {
        sequential[i] = bench.add();
        Thread.sleep(pause);
      }
      report("sequential ADD", sequential);

      long[] concurrent = new long[concurrency * rounds];
      ExecutorService pool = Executors.newFixedThreadPool(concurrency);
      try {
        for (int r = 0; r < rounds; r++) {
          long[] round = bench.concurrentRound(pool, concurrency);
          System.arraycopy(round, 0, concurrent, r * concurrency, concurrency);
          Thread.sleep(pause);
        }
      } finally {
        pool.shutdownNow();
      }
      report(concurrency + " concurrent ADDs x " + rounds + " rounds", concurrent);
      System.out.printf(Locale.ROOT, "fake agent answered %d ADDs, %d distinct addresses%n",
          agent.adds(), bench.addresses.size());
    } finally {
      Files.deleteIfExists(socket);
      Files.deleteIfExists(dir);
    }
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "unknown";
    }
  }

  /** One ADD through the launcher; returns its wall-clock time in microseconds. */
  private long add() throws IOException, InterruptedException {
    String id;
    synchronized (this) {
      id = String.format(Locale.ROOT, "bench%06d", container++);
    }
    long start = System.nanoTime();
    String out = run(id);
    long micros = (System.nanoTime() - start) / 1000;
    record(id, out);
    return micros;
  }

  private long[] concurrentRound(ExecutorService pool, int n) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Long>> futures = new ArrayList<>();
    long[] startedAt = new long[1];
    for (int i = 0; i < n; i++) {
      String id;
      synchronized (this) {
        id = String.format(Locale.ROOT, "bench%06d", container++);
      }
      futures.add(pool.submit(() -> {
        go.await();
        String out = run(id);
        long end = System.nanoTime();
        record(id, out);
        return end;
      }));
    }
    startedAt[0] = System.nanoTime();
    go.countDown();
    long[] micros = new long[n];
    for (int i = 0; i < n; i++) {
      micros[i] = (futures.get(i).get() - startedAt[0]) / 1000;
    }
    return micros;
  }

  private String run(String containerId) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(launcher.toString());
    var env = pb.environment();
    env.put("CNI_COMMAND", "ADD");
    env.put("CNI_CONTAINERID", containerId);
    env.put("CNI_NETNS", "/var/run/netns/" + containerId);
    env.put("CNI_IFNAME", "eth0");
    env.put("CNI_ARGS", "K8S_POD_NAMESPACE=bench;K8S_POD_NAME=" + containerId);
    env.put("CNI_PATH", "/opt/cni/bin");
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    Process process = pb.start();
    process.getOutputStream().write(("{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\","
        + "\"type\":\"meshwork-cni\",\"agent-socket\":\"" + socket + "\",\"mtu\":1450}")
        .getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().close();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int status = process.waitFor();
    if (status != 0) {
      throw new IllegalStateException("ADD " + containerId + " failed (exit " + status + "): "
          + out);
    }
    return out;
  }

  private synchronized void record(String containerId, String out) {
    Matcher m = ADDRESS.matcher(out);
    if (!m.find()) {
      throw new IllegalStateException("ADD " + containerId + " printed no address: " + out);
    }
    if (!addresses.add(m.group(1))) {
      throw new IllegalStateException("address " + m.group(1) + " handed out twice");
    }
  }

  private static void report(String what, long[] micros) {
    long[] sorted = micros.clone();
    Arrays.sort(sorted);
    System.out.printf(Locale.ROOT,
        "%s: n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms min=%.1f ms max=%.1f ms%n",
        what, sorted.length, pct(sorted, 50), pct(sorted, 90), pct(sorted, 99),
        sorted[0] / 1000.0, sorted[sorted.length - 1] / 1000.0);
  }

  /** Nearest-rank percentile in milliseconds. */
  private static double pct(long[] sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)] / 1000.0;
  }

  private static int intOption(String[] args, String name, int fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return Integer.parseInt(args[i + 1]);
      }
    }
    return fallback;
  }
}
