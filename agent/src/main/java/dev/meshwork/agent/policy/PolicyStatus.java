package dev.meshwork.agent.policy;

import java.util.List;

/**
 * What {@code meshwork policy get} shows for one policy object.
 *
 * @param kind {@code CiliumNetworkPolicy} or {@code NetworkPolicy}
 * @param valid whether the latest version received passed validation
 * @param errors why it did not, each naming the field path
 * @param selectedEndpoints IPv4 addresses (as ints) of the local endpoints its rules in force select
 * @param previousVersionInForce an invalid update left the last valid version in force
 */
public record PolicyStatus(
    String namespace,
    String name,
    String kind,
    boolean valid,
    List<String> errors,
    List<Integer> selectedEndpoints,
    boolean previousVersionInForce) {
  public PolicyStatus {
    errors = List.copyOf(errors);
    selectedEndpoints = List.copyOf(selectedEndpoints);
  }
}
