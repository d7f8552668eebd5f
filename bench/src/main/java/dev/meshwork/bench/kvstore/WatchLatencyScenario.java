package dev.meshwork.bench.kvstore;

import dev.meshwork.bench.scenario.CpuTime;
import dev.meshwork.bench.scenario.EtcdMetrics;
import dev.meshwork.bench.scenario.FixedRate;
import dev.meshwork.bench.scenario.Percentile;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.WatchOption;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;

/**
 * Goal (issue 2): put → WatchStore callback latency on loopback at 1,000 puts/s, p99 ≤ 5 ms.
 *
 * <p>A scenario, not JMH: a writer puts at a fixed rate (open loop: it does not wait for
 * answers); each value carries its sequence number, and the scenario records per put the time
 * it was sent, acknowledged (etcd committed it), seen by a bare jetcd watch listener, and
 * delivered to the WatchStore's {@code onUpsert}, so that the tail can be split into etcd's
 * commit, etcd/jetcd's watch delivery and the store's own hand-off. Writer and reader use separate jetcd clients, as the
 * operator and an agent would. Keys cycle over 1,000 ipcache entries (updates, not creates).
 *
 * <p>Arguments: {@code [raw|syncstore] [rate/s] [warmup s] [measure s]}; {@code raw} puts with
 * the KV client, {@code syncstore} goes through {@link SyncStore#upsert} (coalescing queue, lease).
 */
public final class WatchLatencyScenario {
  public static void main(String[] args) throws Exception {
    String mode = args.length > 0 ? args[0] : "raw";
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int warmupSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 5;
    int measureSeconds = args.length > 3 ? Integer.parseInt(args[3]) : 30;
    int warmup = rate * warmupSeconds;
    int total = warmup + rate * measureSeconds;

    // Absolute System.nanoTime() per sequence number, 0 if it never happened.
    long[] sentAt = new long[total];
    long[] ackedAt = new long[total];
    long[] rawWatchAt = new long[total];
    long[] callbackAt = new long[total];
    long[] etcdctlAt = new long[total];
    AtomicInteger received = new AtomicInteger();
    AtomicInteger responses = new AtomicInteger();
    AtomicInteger maxEventsPerResponse = new AtomicInteger();
    AtomicLong lastResponseAt = new AtomicLong();
    AtomicLong maxGapNanos = new AtomicLong();
    CountDownLatch synced = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    String cluster = IPCacheFixture.CLUSTER;
    KeyLayout layout = KeyLayout.state();

    try (EtcdExtension etcd = IPCacheFixture.startEtcd();
        EtcdConnection writer = EtcdConnection.of("writer", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
        EtcdConnection reader = EtcdConnection.of("reader", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))))) {
      WatchHandler<IPCacheEntry> handler =
          new WatchHandler<>() {
            @Override
            public void onUpsert(String key, IPCacheEntry value) {
              long now = System.nanoTime();
              int seq = value.getIdentity();
              if (seq < total) {
                callbackAt[seq] = now;
                if (received.incrementAndGet() == total) {
                  done.countDown();
                }
              }
            }

            @Override
            public void onDelete(String key) {}

            @Override
            public void onSynced() {
              synced.countDown();
            }
          };
      try (WatchStore<IPCacheEntry> store =
              WatchStore.builder(reader, layout.prefix(Kind.IPCACHE, cluster), Codecs.IPCACHE, handler).build();
          SyncStore<IPCacheEntry> sync =
              SyncStore.builder(writer, layout, cluster, Kind.IPCACHE, Codecs.IPCACHE)
                  .writesPerSecond(rate * 4.0)
                  .build()) {
        store.start();
        synced.await(30, TimeUnit.SECONDS);
        // Beside the WatchStore, a bare jetcd watch on the same prefix and the reader's client:
        // what jetcd delivers before the store's own thread hand-off and decoding.
        var rawWatch = reader.client().getWatchClient().watch(
            ByteSequence.from(layout.prefix(Kind.IPCACHE, cluster), StandardCharsets.UTF_8),
            WatchOption.builder().isPrefix(true).build(),
            response -> {
              long now = System.nanoTime();
              responses.incrementAndGet();
              maxEventsPerResponse.accumulateAndGet(response.getEvents().size(), Math::max);
              long previous = lastResponseAt.getAndSet(now);
              if (previous != 0) {
                maxGapNanos.accumulateAndGet(now - previous, Math::max);
              }
              for (var event : response.getEvents()) {
                try {
                  int seq = IPCacheEntry.parseFrom(event.getKeyValue().getValue().getBytes()).getIdentity();
                  if (seq < total) {
                    rawWatchAt[seq] = now;
                  }
                } catch (Exception e) {
                  // not ours
                }
              }
            });
        EtcdMetrics etcdBefore = EtcdMetrics.read(etcd.endpoint());
        // A third watcher in another process and another client library (etcdctl, Go): if it
        // sees a stall the JVM's watchers see too, the stall is etcd's.
        Process etcdctl = new ProcessBuilder("etcdctl", "--endpoints=" + etcd.endpoint(), "watch", "--prefix",
                layout.prefix(Kind.IPCACHE, cluster), "-w", "json")
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        Thread etcdctlReader = Thread.ofPlatform().daemon().start(() -> readEtcdctl(etcdctl, etcdctlAt, total));
        Thread.sleep(500);
        if (mode.equals("syncstore")) {
          sync.start();
        }
        String load = CpuTime.loadAverage();
        long jvm0 = CpuTime.jvm();
        long etcd0 = CpuTime.process(etcd.pid());
        long start = System.nanoTime();
        FixedRate pace = new FixedRate(rate);
        for (int seq = 0; seq < total; seq++) {
          pace.awaitNext();
          String ip = "10.9." + (seq % 1000 / 256) + "." + (seq % 256);
          IPCacheEntry entry =
              IPCacheEntry.newBuilder()
                  .setIp(ip)
                  .setIdentity(seq)
                  .setHostIp("198.18.7.1")
                  .setCluster(cluster)
                  .build();
          String key = layout.ipcacheKey(cluster, ip);
          sentAt[seq] = System.nanoTime();
          if (mode.equals("syncstore")) {
            sync.upsert(key, entry);
          } else {
            int s = seq;
            writer.client().getKVClient().put(
                    ByteSequence.from(key, StandardCharsets.UTF_8), ByteSequence.from(Codecs.IPCACHE.encode(entry)))
                .thenRun(() -> ackedAt[s] = System.nanoTime());
          }
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
          System.out.printf("only %d of %d updates arrived (coalesced or lost)%n", received.get(), total);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        rawWatch.close();
        etcdctl.destroy();
        etcdctlReader.join(2000);
        System.out.printf(Locale.ROOT,
            "bare jetcd watch: %d responses for %d puts (%.1f events per response, at most %d); longest gap between responses %.1f ms%n",
            responses.get(), total, (double) total / Math.max(1, responses.get()), maxEventsPerResponse.get(),
            maxGapNanos.get() / 1e6);
        System.out.println("etcd during the run: " + EtcdMetrics.read(etcd.endpoint()).since(etcdBefore));
        // etcd's own warnings (apply took too long, slow fdatasync, ...), which mark its stalls.
        try (var lines = java.nio.file.Files.lines(etcd.logFile())) {
          lines.filter(l -> l.contains("\"level\":\"warn\"")).limit(20).forEach(l -> System.out.println("etcd log: " + l));
        }
        System.out.printf(Locale.ROOT,
            "cpu: jvm (writer + reader) %.2f cores, etcd %.2f cores over %.1f s; load average at start %s%n",
            (CpuTime.jvm() - jvm0) / 1e9 / seconds, (CpuTime.process(etcd.pid()) - etcd0) / 1e9 / seconds,
            seconds, load);
      }
    }
    System.out.printf(Locale.ROOT, "mode=%s rate=%d/s, %d warm-up puts not counted%n", mode, rate, warmup);
    print("put -> WatchStore callback", sentAt, callbackAt, warmup, total);
    printStalls(sentAt, callbackAt, warmup, total);
    print("put -> bare jetcd watch listener", sentAt, rawWatchAt, warmup, total);
    print("bare jetcd listener -> WatchStore callback", rawWatchAt, callbackAt, warmup, total);
    print("put -> etcdctl watch (another process, Go client)", sentAt, etcdctlAt, warmup, total);
    print("put -> put acknowledged (etcd committed)", sentAt, ackedAt, warmup, total);
    print("put acknowledged -> WatchStore callback (commit -> callback; < 0 when the event came first)",
        ackedAt, callbackAt, warmup, total);
  }

  /**
   * When the slowest 1 % of callbacks were sent, in JVM uptime, grouped by 100 ms: a few groups
   * mean stalls (a GC pause, etcd or the machine stopping for a moment; compare with -Xlog:gc),
   * many mean steady queueing.
   */
  private static void printStalls(long[] sentAt, long[] callbackAt, int warmup, int total) {
    long[] latencies = IntStream.range(warmup, total)
        .filter(i -> sentAt[i] != 0 && callbackAt[i] != 0)
        .mapToLong(i -> callbackAt[i] - sentAt[i]).sorted().toArray();
    if (latencies.length == 0) {
      return;
    }
    long threshold = latencies[(int) (latencies.length * 0.99)];
    long jvmStart = System.nanoTime() - java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() * 1_000_000L;
    java.util.TreeMap<Long, Integer> windows = new java.util.TreeMap<>();
    for (int i = warmup; i < total; i++) {
      if (sentAt[i] != 0 && callbackAt[i] != 0 && callbackAt[i] - sentAt[i] >= threshold) {
        windows.merge((sentAt[i] - jvmStart) / 100_000_000L * 100, 1, Integer::sum);
      }
    }
    System.out.printf(Locale.ROOT, "slowest 1%% (>= %.1f ms) were sent in %d windows of 100 ms (JVM uptime ms=count): %s%n",
        threshold / 1e6, windows.size(), windows);
  }

  private static final java.util.regex.Pattern VALUE = java.util.regex.Pattern.compile("\"value\":\"([^\"]*)\"");

  /** Timestamps each event of etcdctl's JSON watch output as its line arrives. */
  private static void readEtcdctl(Process etcdctl, long[] at, int total) {
    try (var lines = new java.io.BufferedReader(new java.io.InputStreamReader(etcdctl.getInputStream()))) {
      String line;
      while ((line = lines.readLine()) != null) {
        long now = System.nanoTime();
        var m = VALUE.matcher(line);
        while (m.find()) {
          int seq = IPCacheEntry.parseFrom(java.util.Base64.getDecoder().decode(m.group(1))).getIdentity();
          if (seq < total) {
            at[seq] = now;
          }
        }
      }
    } catch (Exception e) {
      // the process was stopped
    }
  }

  /** Percentiles of to[i] - from[i] over the measured sequence numbers where both happened. */
  private static void print(String what, long[] from, long[] to, int warmup, int total) {
    long[] measured = IntStream.range(warmup, total)
        .filter(i -> from[i] != 0 && to[i] != 0)
        .mapToLong(i -> to[i] - from[i])
        .sorted()
        .toArray();
    if (measured.length == 0) {
      System.out.printf("%s: no samples%n", what);
      return;
    }
    System.out.printf(Locale.ROOT,
        "%s: n=%d p50=%.2f ms p90=%.2f ms p99=%.2f ms p99.9=%.2f ms max=%.2f ms%n",
        what, measured.length, Percentile.millis(measured, 0.50), Percentile.millis(measured, 0.90),
        Percentile.millis(measured, 0.99), Percentile.millis(measured, 0.999), measured[measured.length - 1] / 1e6);
  }
}
