package dev.meshwork.bench.kvstoresync;

import dev.meshwork.bench.scenario.FixedRate;
import dev.meshwork.bench.scenario.Percentile;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.sync.SyncStore;
import dev.meshwork.kvstoresync.mirror.ClusterMeshMirror;
import dev.meshwork.kvstoresync.mirror.MirrorSettings;
import dev.meshwork.kvstoresync.mirror.RemoteStatus;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Mirror lag of kvstore-sync: a put in a remote etcd → the mirrored key's watch event in the
 * local etcd, at a fixed rate of puts on one remote.
 *
 * <p>Two etcds on loopback (remote and local). An open-loop writer puts ipcache entries into the
 * remote (cycling over 1,000 keys, so these are updates), each value carrying its send time; a
 * watcher on the local etcd's cache prefix records now − send time per mirrored value. The mirror
 * is the real {@link ClusterMeshMirror} reading a config directory, as in the binary. Values the
 * mirror's writer coalesced (a key updated again while queued) never arrive and are counted.
 *
 * <p>Arguments: {@code [rate/s] [warm-up s] [measure s]}.
 */
public final class MirrorLagScenario {
  private static final String REMOTE = "bench-remote";
  private static final int REMOTE_ID = 7;

  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int warmupSeconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
    int measureSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    int warmup = rate * warmupSeconds;
    int total = warmup + rate * measureSeconds;
    long[] lags = new long[total];
    AtomicInteger received = new AtomicInteger();
    KeyLayout state = KeyLayout.state();
    KeyLayout cache = KeyLayout.cache(REMOTE);
    Path configDir = Files.createTempDirectory("mwt-kvsync-bench");

    try (EtcdExtension remoteEtcd = EtcdExtension.plain();
        EtcdExtension localEtcd = EtcdExtension.plain()) {
      remoteEtcd.start();
      localEtcd.start();
      try (EtcdConnection remote = EtcdConnection.of("remote", EtcdClients.plain(List.of(URI.create(remoteEtcd.endpoint()))));
          EtcdConnection local = EtcdConnection.of("local", EtcdClients.plain(List.of(URI.create(localEtcd.endpoint()))));
          EtcdConnection reader = EtcdConnection.of("reader", EtcdClients.plain(List.of(URI.create(localEtcd.endpoint()))))) {
        // The remote's operator: cluster-config and a synced canary per kind.
        remoteEtcd.put(KeyLayout.clusterConfigKey(REMOTE),
            Codecs.CLUSTER_CONFIG.encode(ClusterConfig.newBuilder().setName(REMOTE).setId(REMOTE_ID).build()));
        List<SyncStore<?>> operator = new ArrayList<>();
        for (Kind kind : Kind.values()) {
          SyncStore<?> store = SyncStore.builder(remote, state, REMOTE, kind, kind.codec()).build();
          store.start();
          store.synced();
          operator.add(store);
        }
        Files.writeString(configDir.resolve(REMOTE + ".yaml"), "endpoints:\n- " + remoteEtcd.endpoint() + "\n");

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        MirrorSettings settings = new MirrorSettings(ClusterName.of("bench-local"), ClusterId.of(1), Duration.ofMinutes(3),
            Duration.ofSeconds(1), Backoff.standard(), Duration.ofSeconds(1), 10_000, registry, InstantSource.system());
        try (ClusterMeshMirror mirror = new ClusterMeshMirror(configDir, local, settings);
            Watch.Watcher watcher = reader.client().getWatchClient().watch(
                ByteSequence.from(cache.prefix(Kind.IPCACHE, REMOTE), StandardCharsets.UTF_8),
                WatchOption.builder().isPrefix(true).build(), response -> {
                  long now = System.nanoTime();
                  for (WatchEvent event : response.getEvents()) {
                    if (event.getEventType() == WatchEvent.EventType.PUT
                        && Codecs.IPCACHE.decode("", event.getKeyValue().getValue().getBytes())
                            instanceof Decoded.Value<IPCacheEntry> v && !v.value().getNamespace().isEmpty()) {
                      int seq = Integer.parseInt(v.value().getNamespace());
                      lags[seq] = now - Long.parseLong(v.value().getPodName());
                      received.incrementAndGet();
                    }
                  }
                })) {
          mirror.start();
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
          while (!mirror.status(REMOTE).map(RemoteStatus::ready).orElse(false)) {
            if (System.nanoTime() > deadline) {
              throw new IllegalStateException("mirror not ready: " + mirror.statuses());
            }
            Thread.sleep(50);
          }
          String load = Files.readString(Path.of("/proc/loadavg")).trim();
          FixedRate pace = new FixedRate(rate);
          for (int seq = 0; seq < total; seq++) {
            pace.awaitNext();
            String ip = "10.9." + (seq % 1000 / 256) + "." + (seq % 256);
            IPCacheEntry entry = IPCacheEntry.newBuilder().setIp(ip).setHostIp("198.18.7.1").setCluster(REMOTE)
                .setNamespace(Integer.toString(seq)).setPodName(Long.toString(System.nanoTime())).build();
            remote.client().getKVClient().put(ByteSequence.from(state.ipcacheKey(REMOTE, ip), StandardCharsets.UTF_8),
                ByteSequence.from(Codecs.IPCACHE.encode(entry)));
          }
          // Wait until the last second's values had time to arrive.
          long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
          while (lags[total - 1] == 0 && System.nanoTime() < settle) {
            Thread.sleep(50);
          }
          long[] measured = Arrays.stream(lags, warmup, total).filter(l -> l > 0).sorted().toArray();
          System.out.printf(Locale.ROOT,
              "rate=%d/s measured=%d of %d (after %d warm-up; the rest coalesced by the mirror's writer) "
                  + "p50=%.2f ms p90=%.2f ms p99=%.2f ms max=%.2f ms; load average at start %s%n",
              rate, measured.length, total - warmup, warmup, Percentile.millis(measured, 0.5), Percentile.millis(measured, 0.9), Percentile.millis(measured, 0.99),
              measured.length == 0 ? 0 : measured[measured.length - 1] / 1e6, load);
          var timer = mirror.mirror(REMOTE).orElseThrow().lagTimer();
          StringBuilder own = new StringBuilder();
          for (ValueAtPercentile p : timer.takeSnapshot().percentileValues()) {
            own.append(String.format(Locale.ROOT, " p%.0f=%.2f ms", p.percentile() * 100, p.value(TimeUnit.MILLISECONDS)));
          }
          System.out.printf(Locale.ROOT, "mirror's own lag metric (whole run, %d samples):%s%n", timer.count(), own);
        }
        operator.forEach(SyncStore::close);
      }
    } finally {
      try (var files = Files.list(configDir)) {
        for (Path p : files.toList()) {
          Files.delete(p);
        }
      }
      Files.delete(configDir);
    }
  }
}
