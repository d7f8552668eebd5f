package dev.meshwork.agent.policy;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.PolicyKey;
import java.util.List;

/**
 * The differences since the previous {@link PolicyEngine#drain()}: keys to allow and to revoke,
 * and local endpoints whose enforcement flags changed (the reconciler re-upserts their {@link
 * dev.meshwork.datapath.Endpoint} with the new flags).
 */
public record PolicyChanges(
    List<PolicyKey> allows, List<PolicyKey> revokes, List<EndpointEnforcement> enforcement) {

  public PolicyChanges {
    allows = List.copyOf(allows);
    revokes = List.copyOf(revokes);
    enforcement = List.copyOf(enforcement);
  }

  /** Enforcement flags of one local endpoint. */
  public record EndpointEnforcement(int endpointIp, boolean ingress, boolean egress) {}

  public boolean isEmpty() {
    return allows.isEmpty() && revokes.isEmpty() && enforcement.isEmpty();
  }

  /** Adds the policy keys to a batch (enforcement flags belong to the endpoint upserts). */
  public ChangeSet.Builder addTo(ChangeSet.Builder builder) {
    allows.forEach(builder::allow);
    revokes.forEach(builder::revoke);
    return builder;
  }
}
