package dev.meshwork.bench.kvstore;

import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.net.URI;
import java.time.Duration;
import java.util.List;
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
    return IPCacheInitialList.run(connection, entries, Duration.ofSeconds(60)).size();
  }
}
