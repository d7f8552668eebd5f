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
 * the incremental update when one identity appears at most 1 ms. See {@link PolicyFixture} for
 * the mesh (every rule is in force on the node: the worst case).
 *
 * <ul>
 *   <li>{@code fullComputation}: the identity table and the node's endpoints are known (the agent
 *       keeps them incrementally); every policy is validated (from the parsed objects, not YAML),
 *       its selectors resolved and cached, and the complete key set drained.
 *   <li>{@code fullComputationFromScratch}: the same, including building the identity index.
 *   <li>{@code identityAppears}: on the loaded engine, one new remote identity arrives that the
 *       peer of a rule selects; the engine updates its selector cache and the drain gives the keys
 *       to allow. (It is removed again outside the measurement.)
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

  @Param({"1", "100"})
  public int endpoints;

  PolicyFixture fixture;

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
  public PolicyChanges fullComputation(KnownIdentities known) {
    fixture.policies.forEach(known.engine::upsertCiliumNetworkPolicy);
    return known.engine.drain();
  }

  @Benchmark
  public PolicyChanges fullComputationFromScratch() {
    PolicyEngine engine = fixture.newEngine();
    fixture.load(engine);
    return engine.drain();
  }

  @Benchmark
  public PolicyChanges identityAppears(LoadedEngine loaded) {
    loaded.engine.upsertIdentity(LoadedEngine.NEW_IDENTITY, loaded.fixture.remotePeerOfRuleZero);
    return loaded.engine.drain();
  }

  /** A fresh engine that knows the identities and endpoints but no policy yet. */
  @State(Scope.Thread)
  public static class KnownIdentities {
    PolicyEngine engine;

    @Setup(Level.Invocation)
    public void load(PolicyComputationBenchmark mesh) {
      engine = mesh.fixture.newEngine();
      mesh.fixture.identities.forEach(engine::upsertIdentity);
      mesh.fixture.endpoints.forEach((ip, id) -> engine.upsertEndpoint(ip, id, mesh.fixture.identities.get(id)));
      engine.drain();
    }
  }

  /** An engine with the whole mesh loaded; the new identity is taken away after each call. */
  @State(Scope.Thread)
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
