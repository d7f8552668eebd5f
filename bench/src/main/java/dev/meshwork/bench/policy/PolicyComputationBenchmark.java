package dev.meshwork.bench.policy;

import dev.meshwork.agent.policy.PolicyChanges;
import dev.meshwork.agent.policy.PolicyEngine;
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
 * Goals (issue 7): the full computation for 1,000 rules × 3,000 identities takes at most 5 ms;
 * the incremental update when one identity appears at most 1 ms.
 *
 * <ul>
 *   <li>{@code fullComputation}: a fresh engine takes every identity, the node's endpoints and
 *       every policy (validation of the parsed objects included, YAML decoding not), and drains
 *       the complete key set.
 *   <li>{@code identityAppears}: on the loaded engine, one new remote identity arrives whose app
 *       label is one that rules select; the engine updates its selector cache and the drain gives
 *       the keys to allow. (The identity is removed again outside the measurement.)
 * </ul>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgs = {"-Xmx1g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PolicyComputationBenchmark {
  @Param({"3000"})
  public int identities;

  @Param({"1000"})
  public int rules;

  @Param({"100"})
  public int endpoints;

  private PolicyFixture fixture;

  @Setup(Level.Trial)
  public void build() {
    fixture = new PolicyFixture(identities, rules, endpoints);
    PolicyEngine engine = fixture.newEngine();
    fixture.load(engine);
    System.out.printf(
        "%n%d identities, %d rules, %d endpoints: %d keys in the full computation%n",
        identities, rules, endpoints, engine.drain().allows().size());
  }

  @Benchmark
  public PolicyChanges fullComputation() {
    PolicyEngine engine = fixture.newEngine();
    fixture.load(engine);
    return engine.drain();
  }

  @Benchmark
  public PolicyChanges identityAppears(LoadedEngine loaded) {
    loaded.engine.upsertIdentity(LoadedEngine.NEW_IDENTITY, loaded.fixture.remotePeerOfRuleZero);
    return loaded.engine.drain();
  }

  /** An engine with the whole mesh loaded; the new identity is taken away after each call. */
  @State(Scope.Benchmark)
  public static class LoadedEngine {
    static final int NEW_IDENTITY = 3 << 16 | 60000;
    PolicyFixture fixture;
    PolicyEngine engine;

    @Setup(Level.Trial)
    public void load(PolicyComputationBenchmark mesh) {
      fixture = mesh.fixture;
      engine = fixture.newEngine();
      fixture.load(engine);
      engine.drain();
      engine.upsertIdentity(NEW_IDENTITY, fixture.remotePeerOfRuleZero);
      System.out.printf("%nkeys for the new identity: %d%n", engine.drain().allows().size());
      identityGoes();
    }

    @TearDown(Level.Invocation)
    public void identityGoes() {
      engine.deleteIdentity(NEW_IDENTITY);
      engine.drain();
    }
  }
}
