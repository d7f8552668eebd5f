package dev.meshwork.agent.policy;

import dev.meshwork.common.config.Setting;
import java.util.Objects;

/**
 * Policy settings of the agent.
 *
 * @param localCluster this agent's cluster name: unscoped selectors match only it by default
 * @param defaultLocalCluster Cilium 1.19's default: a selector without an {@code
 *     io.cilium.k8s.policy.cluster} label matches the local cluster only; false makes it match
 *     every cluster of the mesh (the behaviour before Cilium 1.19)
 */
public record PolicyConfig(String localCluster, boolean defaultLocalCluster) {
  public static final Setting DEFAULT_LOCAL_CLUSTER_SETTING =
      new Setting(
          "policy-default-local-cluster",
          "boolean",
          "true",
          "selectors without an io.cilium.k8s.policy.cluster label match only the local cluster;"
              + " false: every cluster of the mesh");

  public PolicyConfig {
    Objects.requireNonNull(localCluster, "localCluster");
  }
}
