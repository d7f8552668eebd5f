package dev.meshwork.bench.datapath;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Programming 10,000 services with 10 backends each (100,000 distinct backends) into a fresh
 * eBPF datapath with one {@code apply} (goal: at most 1 s). Each iteration gets a new scratch
 * node (namespace + private bpffs), created outside the measured time. Needs root.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgs = "--enable-native-access=ALL-UNNAMED")
public class ServiceProgrammingBenchmark {
  static final int SERVICES = 10_000;
  static final int BACKENDS = 10;

  private ChangeSet changes;
  private ScratchNode node;

  @Setup(Level.Trial)
  public void buildChangeSet() {
    List<Service> services = new ArrayList<>(SERVICES);
    for (int s = 0; s < SERVICES; s++) {
      L4Address frontend = new L4Address(0x0a600000 | s, 80, Protocol.TCP); // 10.96.x.y
      List<L4Address> backends = new ArrayList<>(BACKENDS);
      for (int b = 0; b < BACKENDS; b++) {
        backends.add(new L4Address(0x0a000000 | (s * BACKENDS + b), 8080, Protocol.TCP));
      }
      services.add(new Service(frontend, Service.Kind.CLUSTER_IP, s + 1, backends, 0));
    }
    ChangeSet.Builder builder = ChangeSet.builder();
    services.forEach(builder::upsert);
    changes = builder.build();
  }

  @Setup(Level.Iteration)
  public void freshNode() throws Exception {
    node = new ScratchNode(new BpfDatapathConfig.MapSizes(
        1024, 131072, 131072, 65536, 1024, 1024, 1024, 1024, 1024));
  }

  @TearDown(Level.Iteration)
  public void removeNode() throws Exception {
    node.close();
  }

  @Benchmark
  public void program10kServicesWith10BackendsEach() throws Exception {
    node.datapath.apply(changes);
  }
}
