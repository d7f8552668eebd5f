package dev.meshwork.agent.policy;

import java.util.List;

/** A policy that passed validation, as the rules it contributes. */
public record CompiledPolicy(PolicyRef ref, List<PolicyRule> rules) {
  public CompiledPolicy {
    rules = List.copyOf(rules);
  }
}
