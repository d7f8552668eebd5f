package dev.meshwork.bench.datapath;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import dev.meshwork.datapath.bpf.BpfMap;
import dev.meshwork.datapath.bpf.BpfSyscall;
import dev.meshwork.datapath.bpf.MapLayouts;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/**
 * The same work as {@link MapUpdateBenchmark} and {@link ServiceProgrammingBenchmark}, reported
 * as wall time and as the calling thread's CPU time (user + kernel, so the bpf(2) work itself is
 * included). On a machine shared with other busy processes the wall time mostly measures waiting
 * for a core; the CPU time is what the agent itself spends. Needs root.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp ... dev.meshwork.bench.datapath.DatapathCpuCost}
 */
public final class DatapathCpuCost {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private DatapathCpuCost() {}

  public static void main(String[] args) throws Exception {
    int rounds = 5;
    int elements = 65536;
    try (Arena arena = Arena.ofConfined();
        BpfMap services = BpfMap.create(new BpfMap.Spec("cost_svc", BpfMap.HASH,
            MapLayouts.SERVICE_KEY.byteSize(), MapLayouts.SERVICE_VALUE.byteSize(), elements, 0))) {
      MemorySegment key = arena.allocate(MapLayouts.SERVICE_KEY);
      MemorySegment value = arena.allocate(MapLayouts.SERVICE_VALUE);
      long ks = MapLayouts.SERVICE_KEY.byteSize();
      long vs = MapLayouts.SERVICE_VALUE.byteSize();
      MemorySegment keys = arena.allocate(ks * elements, 8);
      MemorySegment values = arena.allocate(vs * elements, 8);
      for (int i = 0; i < elements; i++) {
        keys.set(JAVA_INT, i * ks, i);
        values.set(JAVA_INT, i * vs, i);
      }
      for (int r = 0; r < rounds + 2; r++) { // two warm-up rounds
        long wall = System.nanoTime();
        long cpu = THREADS.getCurrentThreadCpuTime();
        for (int i = 0; i < elements; i++) {
          key.set(JAVA_INT, 0, i);
          value.set(JAVA_INT, 0, i);
          services.update(key, value, BpfSyscall.BPF_ANY);
        }
        report(r >= 2, "single update", elements, System.nanoTime() - wall, THREADS.getCurrentThreadCpuTime() - cpu);
        wall = System.nanoTime();
        cpu = THREADS.getCurrentThreadCpuTime();
        for (int off = 0; off < elements; off += 1000) {
          int n = Math.min(1000, elements - off);
          services.updateAll(keys.asSlice(off * ks), values.asSlice(off * vs), n);
        }
        report(r >= 2, "batch of 1000", elements, System.nanoTime() - wall, THREADS.getCurrentThreadCpuTime() - cpu);
      }
    }
    ServiceProgrammingBenchmark scenario = new ServiceProgrammingBenchmark();
    scenario.buildChangeSet();
    for (int r = 0; r < rounds + 1; r++) {
      scenario.freshNode();
      long wall = System.nanoTime();
      long cpu = THREADS.getCurrentThreadCpuTime();
      scenario.program10kServicesWith10BackendsEach();
      long wallNs = System.nanoTime() - wall;
      long cpuNs = THREADS.getCurrentThreadCpuTime() - cpu;
      scenario.removeNode();
      if (r >= 1) {
        System.out.printf("10k services x 10 backends: wall %.0f ms, cpu %.0f ms%n", wallNs / 1e6, cpuNs / 1e6);
      }
    }
  }

  private static void report(boolean measured, String what, int n, long wallNs, long cpuNs) {
    if (measured) {
      System.out.printf("%s: wall %.2f us/element, cpu %.2f us/element%n", what, wallNs / 1e3 / n, cpuNs / 1e3 / n);
    }
  }
}
