package dev.meshwork.bench.kvstore;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Goal (issue 2): a WatchStore's initial list and decode of 100k {@code IPCacheEntry} values
 * takes at most 2 s. Each operation builds a fresh WatchStore on the filled prefix, starts it and
 * waits for {@code onSynced}; the handler keeps every entry in a map, as the agent does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx2g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2)
@Measurement(iterations = 5)
public class WatchStoreInitialListBenchmark {
  @Param({"100000"})
  public int entries;

  private EtcdExtension etcd;
  private EtcdConnection connection;

  @Setup(Level.Trial)
  public void fill() throws Exception {
    etcd = IPCacheFixture.startEtcd();
    connection = EtcdConnection.of("bench etcd", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
    IPCacheFixture.fill(connection.client(), entries);
  }

  @TearDown(Level.Trial)
  public void stop() {
    connection.close();
    etcd.close();
  }

  @Benchmark
  public int listAndDecode() throws Exception {
    Map<String, IPCacheEntry> view = new HashMap<>();
    CountDownLatch synced = new CountDownLatch(1);
    WatchHandler<IPCacheEntry> handler =
        new WatchHandler<>() {
          @Override
          public void onUpsert(String key, IPCacheEntry value) {
            view.put(key, value);
          }

          @Override
          public void onDelete(String key) {
            view.remove(key);
          }

          @Override
          public void onSynced() {
            synced.countDown();
          }
        };
    String prefix = KeyLayout.state().prefix(Kind.IPCACHE, IPCacheFixture.CLUSTER);
    try (WatchStore<IPCacheEntry> store =
        WatchStore.builder(connection, prefix, Codecs.IPCACHE, handler).build()) {
      store.start();
      if (!synced.await(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("not synced within 60 s");
      }
      if (view.size() != entries) {
        throw new IllegalStateException("listed " + view.size() + " of " + entries);
      }
      return view.size();
    }
  }
}
