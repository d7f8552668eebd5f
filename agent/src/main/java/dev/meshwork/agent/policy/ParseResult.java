package dev.meshwork.agent.policy;

import java.util.List;

/** What parsing one policy object gave: its rules, or every error found in it. */
public sealed interface ParseResult {
  PolicyRef ref();

  record Valid(CompiledPolicy policy) implements ParseResult {
    @Override
    public PolicyRef ref() {
      return policy.ref();
    }
  }

  /** Each error names the field path, e.g. {@code spec.ingress[0].toFQDNs: ...}. */
  record Invalid(PolicyRef ref, List<String> errors) implements ParseResult {
    public Invalid {
      errors = List.copyOf(errors);
    }
  }
}
