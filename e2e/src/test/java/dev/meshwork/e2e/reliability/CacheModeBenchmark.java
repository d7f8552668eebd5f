package dev.meshwork.e2e.reliability;

import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.process.Command;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Scenario benchmark for docs/benchmarks.md, "Cache mode" (not a test: surefire's patterns do not
 * match it; run with {@code -Dtest=CacheModeBenchmark}). Ten clusters, each with its own etcd and
 * 50 nodes of state (one backend pod per node); {@code -Dbench.agents} agents (default 10) of
 * cluster 1 run in direct mode, then in cache mode behind cluster 1's kvstore-sync.
 *
 * <p>Measured on cluster 2's etcd (a remote for cluster 1): watchers
 * ({@code etcd_debugging_mvcc_watcher_total} from its /metrics) and established TCP connections
 * to its client port ({@code ss}), before and with the agents; then convergence: the time from a
 * backend pod written into cluster 2 to its /32 in each agent's datapath (2 ms polling), over
 * {@code -Dbench.changes} changes (default 50).
 */
@Tag("benchmark")
class CacheModeBenchmark {
  static final int CLUSTERS = 10;
  static final int NODES = 50;
  static final int AGENTS = Integer.getInteger("bench.agents", 10);
  static final int CHANGES = Integer.getInteger("bench.changes", 50);

  @Test
  void directVersusCacheMode() throws Exception {
    Path tmp = Files.createTempDirectory("mwt-bench-cache-");
    List<EtcdExtension> etcds = new ArrayList<>();
    try {
      for (int c = 1; c <= CLUSTERS; c++) {
        EtcdExtension etcd = EtcdExtension.plain();
        etcd.start();
        etcds.add(etcd);
      }
      try (Mesh mesh = new Mesh(tmp, etcds.getFirst())) {
        List<RemoteCluster> remotes = new ArrayList<>();
        for (int c = 2; c <= CLUSTERS; c++) {
          remotes.add(mesh.remote(etcds.get(c - 1), "cluster-" + c, c, NODES, 1));
        }
        RemoteCluster observed = remotes.getFirst();
        EtcdExtension remoteEtcd = observed.etcd;
        Footprint idle = Footprint.of(remoteEtcd);
        Footprint localIdle = Footprint.of(mesh.local.etcd);
        report("idle", idle, idle, List.of());

        // Direct mode: every agent connects to every remote etcd.
        Footprint direct;
        List<Long> directLatencies;
        List<InProcessAgent> agents = new ArrayList<>();
        for (int i = 0; i < AGENTS; i++) agents.add(new InProcessAgent(Mesh.LOCAL, 1, "node-" + i, mesh.localConfig, mesh.agentDir, ClusterMesh.Source.DIRECT));
        awaitAll(agents, remotes);
        direct = Footprint.of(remoteEtcd);
        local("direct", localIdle, Footprint.of(mesh.local.etcd));
        directLatencies = convergence(agents, observed, 1);
        for (InProcessAgent a : agents) a.close();
        report("direct", idle, direct, directLatencies);

        // Cache mode: one kvstore-sync per cluster reads the remotes; agents read the local etcd.
        agents.clear();
        Footprint beforeMirror = Footprint.of(remoteEtcd);
        mesh.mirror(new SimpleMeterRegistry());
        for (int i = 0; i < AGENTS; i++) agents.add(new InProcessAgent(Mesh.LOCAL, 1, "node-" + i, mesh.localConfig, mesh.agentDir, ClusterMesh.Source.CACHE));
        awaitAll(agents, remotes);
        Footprint cache = Footprint.of(remoteEtcd);
        local("cache", localIdle, Footprint.of(mesh.local.etcd));
        List<Long> cacheLatencies = convergence(agents, observed, 2);
        for (InProcessAgent a : agents) a.close();
        report("cache", beforeMirror, cache, cacheLatencies);
      }
    } finally {
      for (EtcdExtension e : etcds) e.close();
      try (var files = Files.walk(tmp)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
      }
    }
  }

  static void awaitAll(List<InProcessAgent> agents, List<RemoteCluster> remotes) {
    int expected = remotes.stream().mapToInt(r -> r.expectedBackends().size()).sum();
    await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(200)).until(() ->
        agents.stream().allMatch(a -> a.datapath.backends(Mesh.FRONTEND).size() == expected));
  }

  /** Per change, per agent: ms from the write to the pod's /32 in that agent's datapath. */
  static List<Long> convergence(List<InProcessAgent> agents, RemoteCluster remote, int round) throws Exception {
    List<Long> samples = new ArrayList<>();
    for (int i = 1; i <= CHANGES; i++) {
      String ip = remote.podIp(1 + i % NODES, 100 + (round - 1) * 60 + i % 60);
      IpPrefix prefix = IpPrefix.parse(ip + "/32");
      long start = System.nanoTime();
      remote.addBackend(ip, 1 + i % NODES);
      long[] seen = new long[agents.size()];
      int left = agents.size();
      while (left > 0) {
        for (int a = 0; a < agents.size(); a++) {
          if (seen[a] == 0 && agents.get(a).datapath.snapshot().ipcache().containsKey(prefix)) {
            seen[a] = System.nanoTime();
            left--;
          }
        }
        if (System.nanoTime() - start > Duration.ofSeconds(60).toNanos()) throw new IllegalStateException("no convergence of " + ip);
        Thread.sleep(2);
      }
      for (long t : seen) samples.add((t - start) / 1_000_000);
      remote.removeBackend(ip);
    }
    return samples;
  }

  static void report(String mode, Footprint before, Footprint with, List<Long> latencies) {
    long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
    String conv = sorted.length == 0 ? "-" : String.format(Locale.ROOT, "p50 %d ms, p99 %d ms, max %d ms (n=%d)",
        sorted[sorted.length / 2], sorted[(int) Math.ceil(sorted.length * 0.99) - 1], sorted[sorted.length - 1], sorted.length);
    System.out.printf(Locale.ROOT, "[bench] %s: remote etcd %s; added by %d agents of cluster 1 (and its kvstore-sync in cache mode): %d watchers, %d connections; convergence %s%n",
        mode, with, AGENTS, with.watchers - before.watchers, with.connections - before.connections, conv);
  }

  static void local(String mode, Footprint idle, Footprint with) {
    System.out.printf(Locale.ROOT, "[bench] %s: local etcd of cluster 1 %s; added by %d agents (and kvstore-sync in cache mode): %d watchers, %d connections%n",
        mode, with, AGENTS, with.watchers - idle.watchers, with.connections - idle.connections);
  }

  record Footprint(long watchers, long connections) {
    static Footprint of(EtcdExtension etcd) throws Exception {
      String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(etcd.endpoint() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      long watchers = Arrays.stream(metrics.split("\n")).filter(l -> l.startsWith("etcd_debugging_mvcc_watcher_total "))
          .mapToLong(l -> (long) Double.parseDouble(l.substring(l.indexOf(' ') + 1).trim())).sum();
      String ss = Command.run("ss", "-Htn", "state", "established", "( sport = :" + etcd.clientPort() + " )").stdout();
      long connections = ss.lines().filter(l -> !l.isBlank()).count();
      return new Footprint(watchers, connections);
    }

    @Override
    public String toString() {
      return watchers + " watchers, " + connections + " established connections";
    }
  }
}
