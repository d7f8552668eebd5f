package dev.meshwork.bench.kvstore;

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
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Goal (issue 2): put → WatchStore callback latency on loopback at 1,000 puts/s, p99 ≤ 5 ms.
 *
 * <p>A scenario, not JMH: a writer puts at a fixed rate (open loop: it does not wait for
 * answers), each value carries its send time ({@code System.nanoTime()}) and the WatchStore's
 * {@code onUpsert} records now − send time. Writer and reader use separate jetcd clients, as the
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

    long[] latencies = new long[total];
    long[] acks = new long[total];
    AtomicInteger received = new AtomicInteger();
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
                latencies[seq] = now - Long.parseLong(value.getPodName());
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
                  .setPodName(Long.toString(System.nanoTime()))
                  .build();
          String key = layout.ipcacheKey(cluster, ip);
          if (mode.equals("syncstore")) {
            sync.upsert(key, entry);
          } else {
            long sent = Long.parseLong(entry.getPodName());
            int s = seq;
            writer.client().getKVClient().put(
                    ByteSequence.from(key, StandardCharsets.UTF_8), ByteSequence.from(Codecs.IPCACHE.encode(entry)))
                .thenRun(() -> acks[s] = System.nanoTime() - sent);
          }
        }
        if (!done.await(60, TimeUnit.SECONDS)) {
          System.out.printf("only %d of %d updates arrived (coalesced or lost)%n", received.get(), total);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf(Locale.ROOT,
            "cpu: jvm (writer + reader) %.2f cores, etcd %.2f cores over %.1f s; load average at start %s%n",
            (CpuTime.jvm() - jvm0) / 1e9 / seconds, (CpuTime.process(etcd.pid()) - etcd0) / 1e9 / seconds,
            seconds, load);
      }
    }
    long[] measured = Arrays.stream(latencies, warmup, total).filter(l -> l > 0).sorted().toArray();
    System.out.printf(Locale.ROOT,
        "mode=%s rate=%d/s measured=%d (after %d warm-up) p50=%.2f ms p90=%.2f ms p99=%.2f ms p99.9=%.2f ms max=%.2f ms%n",
        mode, rate, measured.length, warmup,
        Percentile.millis(measured, 0.50), Percentile.millis(measured, 0.90), Percentile.millis(measured, 0.99), Percentile.millis(measured, 0.999),
        measured[measured.length - 1] / 1e6);
    printAcks(acks, warmup, total);
  }

  private static void printAcks(long[] acks, int warmup, int total) {
    long[] measured = Arrays.stream(acks, warmup, total).filter(l -> l > 0).sorted().toArray();
    if (measured.length > 0) {
      System.out.printf(Locale.ROOT, "put acknowledged: p50=%.2f ms p99=%.2f ms max=%.2f ms%n",
          Percentile.millis(measured, 0.50), Percentile.millis(measured, 0.99), measured[measured.length - 1] / 1e6);
    }
  }
}
