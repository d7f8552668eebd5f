package dev.meshwork.bench.kvstore;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;

/** Fills an etcd with realistic ipcache entries of one cluster, as the operator would write them. */
final class IPCacheFixture {
  static final String CLUSTER = "bench-cluster";

  private IPCacheFixture() {}

  /** The entry for pod number {@code i}: 10.(i/65536).(i/256).(i%256) on one of 100 nodes. */
  static IPCacheEntry entry(int i, String podSuffix) {
    String ip = "10." + (1 + i / 65536) + "." + ((i / 256) % 256) + "." + (i % 256);
    return IPCacheEntry.newBuilder()
        .setIp(ip)
        .setIdentity((7 << 16) | (256 + i % 5000))
        .setHostIp("198.18.7." + (1 + i % 100))
        .setNamespace("namespace-" + (i % 50))
        .setPodName("deployment-" + (i % 2000) + "-7d4b9c8f6-" + podSuffix + i)
        .setCluster(CLUSTER)
        .build();
  }

  static String key(IPCacheEntry entry) {
    return KeyLayout.state().ipcacheKey(CLUSTER, entry.getIp());
  }

  /** Writes {@code count} entries with up to 64 puts in flight. */
  static void fill(Client client, int count) throws InterruptedException {
    Semaphore inFlight = new Semaphore(64);
    CompletableFuture<?>[] all = new CompletableFuture<?>[count];
    for (int i = 0; i < count; i++) {
      IPCacheEntry entry = entry(i, "x");
      inFlight.acquire();
      all[i] =
          client.getKVClient()
              .put(ByteSequence.from(key(entry), StandardCharsets.UTF_8),
                  ByteSequence.from(Codecs.IPCACHE.encode(entry)))
              .whenComplete((r, e) -> inFlight.release());
    }
    CompletableFuture.allOf(all).join();
  }

  /** A started plain etcd (the caller closes it). */
  static EtcdExtension startEtcd() {
    EtcdExtension etcd = EtcdExtension.plain().withArgs("--quota-backend-bytes=4294967296");
    etcd.start();
    return etcd;
  }
}
