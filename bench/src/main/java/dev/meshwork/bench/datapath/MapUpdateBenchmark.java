package dev.meshwork.bench.datapath;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.meshwork.datapath.bpf.BpfMap;
import dev.meshwork.datapath.bpf.BpfSyscall;
import dev.meshwork.datapath.bpf.MapLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one map element update from Java through bpf(2) via FFM (goal: at most 2 µs per
 * element), on the services map's shape: one at a time, and in BPF_MAP_UPDATE_BATCH batches of
 * 1,000. Also the ipcache LPM trie, which has no batch operation. Needs root (creates maps).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = "--enable-native-access=ALL-UNNAMED")
public class MapUpdateBenchmark {
  private static final int KEYS = 65536;
  private static final int BATCH = 1000;

  private BpfMap services;
  private BpfMap ipcache;
  private Arena arena;
  private MemorySegment key;
  private MemorySegment value;
  private MemorySegment batchKeys;
  private MemorySegment batchValues;
  private MemorySegment lpmKey;
  private MemorySegment lpmValue;
  private int next;

  @Setup(Level.Trial)
  public void createMaps() throws Exception {
    services = BpfMap.create(new BpfMap.Spec("bench_svc", BpfMap.HASH,
        MapLayouts.SERVICE_KEY.byteSize(), MapLayouts.SERVICE_VALUE.byteSize(), KEYS, 0));
    ipcache = BpfMap.create(new BpfMap.Spec("bench_ipc", BpfMap.LPM_TRIE,
        MapLayouts.IPCACHE_KEY.byteSize(), MapLayouts.IPCACHE_VALUE.byteSize(), KEYS, BpfMap.F_NO_PREALLOC));
    arena = Arena.ofShared();
    key = arena.allocate(MapLayouts.SERVICE_KEY);
    value = arena.allocate(MapLayouts.SERVICE_VALUE);
    batchKeys = arena.allocate(MapLayouts.SERVICE_KEY.byteSize() * BATCH, 8);
    batchValues = arena.allocate(MapLayouts.SERVICE_VALUE.byteSize() * BATCH, 8);
    lpmKey = arena.allocate(MapLayouts.IPCACHE_KEY);
    lpmValue = arena.allocate(MapLayouts.IPCACHE_VALUE);
    lpmKey.set(JAVA_INT, 0, 32);
  }

  @TearDown(Level.Trial)
  public void closeMaps() {
    services.close();
    ipcache.close();
    arena.close();
  }

  @Benchmark
  public void updateOneServiceSlot() throws Exception {
    int k = next++ & (KEYS - 1);
    key.set(JAVA_INT, 0, k);
    value.set(JAVA_INT, 0, k);
    services.update(key, value, BpfSyscall.BPF_ANY);
  }

  @Benchmark
  @OperationsPerInvocation(BATCH)
  public void updateServiceSlotsInBatchesOf1000() throws Exception {
    int base = (next += BATCH) & (KEYS - 1);
    long ks = MapLayouts.SERVICE_KEY.byteSize();
    long vs = MapLayouts.SERVICE_VALUE.byteSize();
    for (int i = 0; i < BATCH; i++) {
      batchKeys.set(JAVA_INT, i * ks, (base + i) & (KEYS - 1));
      batchValues.set(JAVA_INT, i * vs, i);
    }
    services.updateAll(batchKeys, batchValues, BATCH);
  }

  @Benchmark
  public void updateOneIpcachePrefix() throws Exception {
    int k = next++ & (KEYS - 1);
    lpmKey.set(JAVA_INT, 4, 0x0a000000 | k);
    lpmValue.set(JAVA_INT, 0, k);
    ipcache.update(lpmKey, lpmValue, BpfSyscall.BPF_ANY);
  }
}
