package dev.meshwork.bench.policy;

import dev.meshwork.agent.policy.CiliumNetworkPolicyParser;
import dev.meshwork.agent.policy.ParseResult;
import dev.meshwork.agent.policy.PolicyEngine;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The policy computations of {@link PolicyComputationBenchmark}, timed in CPU time of the
 * computing thread rather than wall time: on a shared 2-core machine wall time mostly measures
 * how long the thread waited for a core. Prints min / median / p90 over the measured runs after
 * warm-up runs.
 *
 * <p>The full computation is timed as the agent does it ({@link
 * PolicyEngine#upsertCiliumNetworkPolicy} for every policy, then one drain). Each run also does
 * the same work on a second engine in three timed stages, to show where the time goes: parsing
 * and validating every policy, applying the parsed policies (selector resolution, per-endpoint
 * keys), and the drain.
 *
 * <p>Usage: {@code PolicyCpuTimeScenario <identities> <rules> <endpoints> <warmup> <runs>}
 */
public final class PolicyCpuTimeScenario {
  private PolicyCpuTimeScenario() {}

  public static void main(String[] args) {
    int identities = Integer.parseInt(args[0]);
    int rules = Integer.parseInt(args[1]);
    int endpoints = Integer.parseInt(args[2]);
    int warmup = Integer.parseInt(args[3]);
    int runs = Integer.parseInt(args[4]);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    PolicyFixture fixture = new PolicyFixture(identities, rules, endpoints);
    CiliumNetworkPolicyParser parser = new CiliumNetworkPolicyParser(fixture.config());
    long[] full = new long[runs];
    long[] appear = new long[runs];
    long[] parse = new long[runs];
    long[] apply = new long[runs];
    long[] drain = new long[runs];
    int keys = 0;
    for (int run = -warmup; run < runs; run++) {
      PolicyEngine engine = knownMesh(fixture);
      long t0 = threads.getCurrentThreadCpuTime();
      fixture.policies.forEach(engine::upsertCiliumNetworkPolicy);
      keys = engine.drain().allows().size();
      long t1 = threads.getCurrentThreadCpuTime();
      engine.upsertIdentity(3 << 16 | 60000, fixture.remotePeerOfRuleZero);
      engine.drain();
      long t2 = threads.getCurrentThreadCpuTime();

      PolicyEngine staged = knownMesh(fixture);
      long s0 = threads.getCurrentThreadCpuTime();
      List<ParseResult> parsed = new ArrayList<>(fixture.policies.size());
      for (GenericKubernetesResource policy : fixture.policies) {
        parsed.add(parser.parse(policy));
      }
      long s1 = threads.getCurrentThreadCpuTime();
      parsed.forEach(staged::apply);
      long s2 = threads.getCurrentThreadCpuTime();
      if (staged.drain().allows().size() != keys) {
        throw new IllegalStateException("the staged computation gave another number of keys");
      }
      long s3 = threads.getCurrentThreadCpuTime();
      if (run >= 0) {
        full[run] = t1 - t0;
        appear[run] = t2 - t1;
        parse[run] = s1 - s0;
        apply[run] = s2 - s1;
        drain[run] = s3 - s2;
      }
    }
    System.out.printf(
        "%d identities, %d rules, %d endpoints, %d keys%n  full computation: %s%n  one identity appears: %s%n"
            + "  stages of the full computation:%n    parse and validate: %s%n    apply: %s%n    drain: %s%n",
        identities, rules, endpoints, keys, summary(full), summary(appear), summary(parse), summary(apply), summary(drain));
  }

  /** An engine that knows the mesh's identities and the node's endpoints, and no policy. */
  private static PolicyEngine knownMesh(PolicyFixture fixture) {
    PolicyEngine engine = fixture.newEngine();
    fixture.identities.forEach(engine::upsertIdentity);
    fixture.endpoints.forEach((ip, id) -> engine.upsertEndpoint(ip, id, fixture.identities.get(id)));
    engine.drain();
    return engine;
  }

  private static String summary(long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return String.format(
        "min %.3f ms, median %.3f ms, p90 %.3f ms (CPU time, %d runs)",
        sorted[0] / 1e6, sorted[sorted.length / 2] / 1e6, sorted[sorted.length * 9 / 10] / 1e6, sorted.length);
  }
}
