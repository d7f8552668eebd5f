package dev.meshwork.agent.policy;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code meshwork_policy_rejected_total{kind}}: policy versions that failed validation;
 * {@code meshwork_policy_invalid}: policies whose latest version is invalid now;
 * {@code meshwork_policy_rules}: rules in force.
 */
final class PolicyMetrics {
  private final Counter rejectedCnp;
  private final Counter rejectedNp;
  private final AtomicInteger invalid = new AtomicInteger();
  private final AtomicInteger rules = new AtomicInteger();

  PolicyMetrics(MeterRegistry registry) {
    rejectedCnp = rejected(registry, PolicyRef.Kind.CILIUM_NETWORK_POLICY);
    rejectedNp = rejected(registry, PolicyRef.Kind.NETWORK_POLICY);
    Gauge.builder("meshwork.policy.invalid", invalid, AtomicInteger::get)
        .description("policies whose latest version failed validation")
        .register(registry);
    Gauge.builder("meshwork.policy.rules", rules, AtomicInteger::get)
        .description("policy rules in force on this node")
        .register(registry);
  }

  private static Counter rejected(MeterRegistry registry, PolicyRef.Kind kind) {
    return Counter.builder("meshwork.policy.rejected")
        .description("policy versions that failed validation and were not applied")
        .tag("kind", kind.kubernetesKind())
        .register(registry);
  }

  void rejected(PolicyRef.Kind kind) {
    (kind == PolicyRef.Kind.CILIUM_NETWORK_POLICY ? rejectedCnp : rejectedNp).increment();
  }

  void invalidPolicies(int count) {
    invalid.set(count);
  }

  void rulesInForce(int count) {
    rules.set(count);
  }
}
