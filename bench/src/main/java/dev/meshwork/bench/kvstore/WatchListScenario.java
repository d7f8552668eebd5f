package dev.meshwork.bench.kvstore;

import dev.meshwork.bench.scenario.CpuTime;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The same measurement as {@link WatchStoreInitialListBenchmark} (initial list + decode of 100k
 * {@code IPCacheEntry} values into a map), reported per run with the CPU time the JVM and etcd
 * spent on it, so that a figure taken on a busy shared machine can be read correctly.
 *
 * <p>Arguments: {@code [entries] [runs]}.
 */
public final class WatchListScenario {
  public static void main(String[] args) throws Exception {
    int entries = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int runs = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    try (EtcdExtension etcd = IPCacheFixture.startEtcd();
        EtcdConnection connection =
            EtcdConnection.of("bench etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))))) {
      IPCacheFixture.fill(connection.client(), entries);
      for (int run = 0; run <= runs; run++) {
        String load = CpuTime.loadAverage();
        long jvm0 = CpuTime.jvm();
        long etcd0 = CpuTime.process(etcd.pid());
        long t0 = System.nanoTime();
        IPCacheInitialList.run(connection, entries, Duration.ofSeconds(120));
        long wall = System.nanoTime() - t0;
        System.out.printf(Locale.ROOT,
            "%s entries=%d wall=%.2f s jvm-cpu=%.2f s etcd-cpu=%.2f s load=%s%n",
            run == 0 ? "warm-up" : "run " + run, entries, wall / 1e9,
            (CpuTime.jvm() - jvm0) / 1e9, (CpuTime.process(etcd.pid()) - etcd0) / 1e9, load);
      }
      retainedHeap(connection, IPCacheInitialList.prefix(), entries);
    }
  }

  /** Heap the store itself keeps for its keys: the handler only counts, so nothing else holds them. */
  private static void retainedHeap(EtcdConnection connection, String prefix, int entries) throws Exception {
    CountDownLatch synced = new CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger count = new java.util.concurrent.atomic.AtomicInteger();
    WatchHandler<IPCacheEntry> counting =
        new WatchHandler<>() {
          @Override
          public void onUpsert(String key, IPCacheEntry value) {
            count.incrementAndGet();
          }

          @Override
          public void onDelete(String key) {}

          @Override
          public void onSynced() {
            synced.countDown();
          }
        };
    long before = usedHeapAfterGc();
    WatchStore<IPCacheEntry> store = WatchStore.builder(connection, prefix, Codecs.IPCACHE, counting).build();
    store.start();
    synced.await(120, TimeUnit.SECONDS);
    long with = usedHeapAfterGc();
    System.out.printf(Locale.ROOT, "retained by the store: %.1f MB for %d keys (%d bytes per key)%n",
        (with - before) / 1e6, store.size(), (with - before) / Math.max(1, store.size()));
    store.close();
  }

  private static long usedHeapAfterGc() throws InterruptedException {
    Runtime rt = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return rt.totalMemory() - rt.freeMemory();
  }
}
