package dev.meshwork.bench.agent;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scenario benchmarks of the agent control plane against real etcds (one per cluster) with a
 * datapath that keeps nothing and times changes:
 *
 * <ul>
 *   <li>{@code convergence}: 10 remote clusters x 10,000 endpoints; after the initial sync, 100
 *       changes/s (4 of 5 an ipcache entry, 1 of 5 a backend's readiness in a global service) for
 *       30 s; latency from the etcd put to the batch handed to the datapath. Also the heap per
 *       remote endpoint after the sync.
 *   <li>{@code initial-sync}: one remote cluster with 100,000 endpoints; time from start to the
 *       cluster being ready and every entry handed to the datapath; heap per remote endpoint.
 * </ul>
 *
 * Usage: {@code AgentControlPlaneBenchmark convergence|initial-sync [clusters] [endpointsPerCluster] [seconds]}
 */
public final class AgentControlPlaneBenchmark {
  static final String LOCAL = "bench-local";
  static final int LOCAL_ID = 200;

  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "convergence";
    switch (mode) {
      case "convergence" -> run(arg(args, 1, 10), arg(args, 2, 10_000), 100, arg(args, 3, 30), true);
      case "initial-sync" -> run(arg(args, 1, 1), arg(args, 2, 100_000), 20, 0, false);
      default -> throw new IllegalArgumentException("mode must be convergence or initial-sync, got " + mode);
    }
    System.exit(0);
  }

  private static int arg(String[] args, int i, int def) {
    return args.length > i ? Integer.parseInt(args[i]) : def;
  }

  /**
   * @param backendsPerService how many backends each global service has per cluster
   * @param seconds how long to apply changes (0: only the initial sync)
   */
  static void run(int clusters, int endpoints, int backendsPerService, int seconds, boolean changes) throws Exception {
    int services = Math.max(1, endpoints / backendsPerService);
    System.out.printf(Locale.ROOT, "# %d remote cluster(s) x %d endpoints, %d global services x %d backends per cluster%n",
        clusters, endpoints, services, backendsPerService);
    Path dir = Files.createTempDirectory("mw-bench-agent");
    List<EtcdExtension> etcds = new ArrayList<>();
    List<Client> writers = new ArrayList<>();
    List<ClusterLoader> loaders = new ArrayList<>();
    try {
      EtcdExtension localEtcd = EtcdExtension.plain();
      localEtcd.start();
      etcds.add(localEtcd);
      Client localWriter = EtcdClients.plain(List.of(URI.create(localEtcd.endpoint())));
      writers.add(localWriter);
      new ClusterLoader(localWriter, LOCAL, LOCAL_ID, 0, services).loadAll(true);
      Path localFile = Files.writeString(Files.createDirectories(dir.resolve("local")).resolve(LOCAL), "endpoints: [" + localEtcd.endpoint() + "]\n");
      Path meshDir = Files.createDirectories(dir.resolve("clustermesh"));

      long loadStart = System.nanoTime();
      for (int c = 1; c <= clusters; c++) {
        EtcdExtension etcd = EtcdExtension.plain();
        etcd.start();
        etcds.add(etcd);
        Client writer = EtcdClients.plain(List.of(URI.create(etcd.endpoint())));
        writers.add(writer);
        ClusterLoader loader = new ClusterLoader(writer, "bench-remote-" + c, c, endpoints, services);
        loader.loadAll(false);
        loaders.add(loader);
        Files.writeString(meshDir.resolve(loader.cluster), "endpoints: [" + etcd.endpoint() + "]\n");
      }
      System.out.printf(Locale.ROOT, "# loaded the etcds in %.1f s%n", (System.nanoTime() - loadStart) / 1e9);

      TimingDatapath datapath = new TimingDatapath();
      NodeTable nodes = new NodeTable(LOCAL);
      ServiceTable serviceTable = new ServiceTable(LOCAL);
      IpCacheTable ipcache = new IpCacheTable(LOCAL);
      IdentityTable identities = new IdentityTable();
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      DatapathReconciler reconciler = new DatapathReconciler(datapath, nodes, ipcache, serviceTable, "bench-node", registry);
      ClusterMesh mesh = new ClusterMesh(
          new ClusterMesh.Settings(LOCAL, ClusterId.of(LOCAL_ID), Optional.of(localFile), Optional.of(meshDir),
              Optional.empty(), Duration.ofMinutes(3), Duration.ofMillis(100)),
          nodes, serviceTable, identities, ipcache, reconciler, registry, Clock.systemUTC());

      long baseline = usedHeapAfterGc();
      long start = System.nanoTime();
      reconciler.start();
      mesh.start();
      for (ClusterLoader l : loaders) {
        while (!mesh.ready(l.cluster)) Thread.sleep(5);
      }
      while (!mesh.ready(LOCAL)) Thread.sleep(5);
      reconciler.awaitIdle(Duration.ofMinutes(5));
      double syncSeconds = (System.nanoTime() - start) / 1e9;
      long total = (long) clusters * endpoints;
      int ipcacheEntries = 0;
      for (ClusterLoader l : loaders) ipcacheEntries += ipcache.count(l.cluster);
      System.out.printf(Locale.ROOT, "initial sync: %.2f s until %d cluster(s) ready and %d changes handed to the datapath (%d ipcache entries learned)%n",
          syncSeconds, clusters, datapath.changes.get(), ipcacheEntries);
      printThreadCpu();
      long heap = usedHeapAfterGc() - baseline;
      System.out.printf(Locale.ROOT, "heap: %.1f MiB for %d remote endpoints = %d bytes per remote endpoint%n",
          heap / 1048576.0, total, heap / total);

      if (changes && seconds > 0) {
        converge(mesh, datapath, loaders, writers.subList(1, writers.size()), seconds);
        var timer = registry.get("meshwork_agent_reconcile_duration").timer();
        var snapshot = timer.takeSnapshot();
        StringBuilder pcts = new StringBuilder();
        for (var v : snapshot.percentileValues()) {
          pcts.append(String.format(Locale.ROOT, " p%.0f=%.2f ms", v.percentile() * 100, v.value(TimeUnit.MILLISECONDS)));
        }
        System.out.printf(Locale.ROOT, "reconciler, per batch (compute + apply), whole run: n=%d%s max=%.2f ms%n",
            timer.count(), pcts, timer.max(TimeUnit.MILLISECONDS));
      }
      mesh.stop();
      reconciler.stop();
    } finally {
      for (Client w : writers) w.close();
      for (EtcdExtension e : etcds) e.close();
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  static void converge(ClusterMesh mesh, TimingDatapath datapath, List<ClusterLoader> loaders, List<Client> writers, int seconds)
      throws Exception {
    Random random = new Random(42);
    int[][] variant = new int[loaders.size()][];
    int[][] notReady = new int[loaders.size()][];
    for (int c = 0; c < loaders.size(); c++) {
      variant[c] = new int[loaders.get(c).pods];
      notReady[c] = new int[loaders.get(c).services];
      java.util.Arrays.fill(notReady[c], -1);
    }
    List<Long> putLatencies = new ArrayList<>();
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    int warmupTicks = 500; // 5 s at 100/s
    int totalTicks = warmupTicks + seconds * 100;
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(totalTicks);
    int[] tick = {0};
    ticker.scheduleAtFixedRate(() -> {
      int t = tick[0]++;
      if (t >= totalTicks) return;
      if (t == warmupTicks) datapath.recording = true;
      int c = random.nextInt(loaders.size());
      ClusterLoader l = loaders.get(c);
      try {
        if (t % 5 == 4) {
          int k = random.nextInt(l.services);
          int frontend = Ipv4.parse(ClusterLoader.frontendIp(k));
          if (!datapath.pendingServices.containsKey(frontend)) {
            notReady[c][k] = notReady[c][k] == -1 ? 0 : -1;
            int ready = 0;
            for (int cc = 0; cc < loaders.size(); cc++) {
              ready += loaders.get(cc).backendsPerService() - (notReady[cc][k] == -1 ? 0 : 1);
            }
            byte[] value = l.service(k, false, notReady[c][k]).toByteArray();
            datapath.pendingServices.put(frontend, new TimingDatapath.Expected(ready, System.nanoTime()));
            long sent = System.nanoTime();
            writers.get(c).getKVClient().put(
                ClusterLoader.bytes(KeyLayout.state().serviceKey(l.cluster, "bench", ClusterLoader.serviceName(k))),
                ByteSequence.from(value)).thenRun(() -> putAcked(datapath, putLatencies, sent));
            return;
          }
        }
        int i = random.nextInt(l.pods);
        int ip = Ipv4.parse(ClusterLoader.podIp(l.id, i));
        if (datapath.pendingIps.containsKey(ip)) return;
        int v = ++variant[c][i];
        byte[] value = l.ipcache(i, v).toByteArray();
        datapath.pendingIps.put(ip, new TimingDatapath.Expected(l.identityOf(i, v), System.nanoTime()));
        long sent = System.nanoTime();
        writers.get(c).getKVClient().put(
            ClusterLoader.bytes(KeyLayout.state().ipcacheKey(l.cluster, ClusterLoader.podIp(l.id, i))), ByteSequence.from(value))
            .thenRun(() -> putAcked(datapath, putLatencies, sent));
      } finally {
        done.countDown();
      }
    }, 0, 10, TimeUnit.MILLISECONDS);
    done.await();
    Thread.sleep(2000); // let the last changes arrive
    ticker.shutdownNow();
    report("ipcache entry changes", datapath.ipLatencies);
    report("global service backend changes", datapath.serviceLatencies);
    List<Long> all = new ArrayList<>(datapath.ipLatencies);
    all.addAll(datapath.serviceLatencies);
    report("all changes", all);
    report("for comparison, etcd put round trip (put call to response)", putLatencies);
    System.out.printf(Locale.ROOT, "unmatched (never seen in the datapath): %d ipcache, %d services; %d batches, %d changes in total%n",
        datapath.pendingIps.size(), datapath.pendingServices.size(), datapath.batches.get(), datapath.changes.get());
  }

  private static void putAcked(TimingDatapath datapath, List<Long> into, long sent) {
    if (datapath.recording) {
      synchronized (into) {
        into.add(System.nanoTime() - sent);
      }
    }
  }

  static void report(String what, List<Long> nanos) {
    List<Long> sorted = new ArrayList<>(nanos);
    Collections.sort(sorted);
    if (sorted.isEmpty()) {
      System.out.println(what + ": no samples");
      return;
    }
    System.out.printf(Locale.ROOT, "%s: n=%d p50=%.1f ms p90=%.1f ms p99=%.1f ms max=%.1f ms%n", what, sorted.size(),
        pct(sorted, 0.50), pct(sorted, 0.90), pct(sorted, 0.99), sorted.getLast() / 1e6);
  }

  static double pct(List<Long> sorted, double p) {
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1)) / 1e6;
  }

  /** Where the agent's CPU went during the sync, per thread group (store name without its cluster). */
  static void printThreadCpu() {
    var threads = ManagementFactory.getThreadMXBean();
    java.util.Map<String, Long> byGroup = new java.util.TreeMap<>();
    for (long id : threads.getAllThreadIds()) {
      var info = threads.getThreadInfo(id);
      long cpu = threads.getThreadCpuTime(id);
      if (info == null || cpu <= 0) continue;
      String name = info.getThreadName().replaceAll(" of bench-[a-z0-9-]+", "").replaceAll("[-#]?\\d+$", "");
      byGroup.merge(name, cpu, Long::sum);
    }
    StringBuilder line = new StringBuilder("agent-side CPU during the sync (s):");
    byGroup.entrySet().stream().sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
        .forEach(e -> line.append(String.format(Locale.ROOT, " %s=%.2f", e.getKey(), e.getValue() / 1e9)));
    System.out.println(line);
  }

  static long usedHeapAfterGc() throws InterruptedException {
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
