package dev.meshwork.agent.testsupport;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.AgentConfig.BpfSettings;
import dev.meshwork.agent.AgentConfig.ClusterMeshSource;
import dev.meshwork.agent.AgentConfig.DatapathKind;
import dev.meshwork.agent.AgentConfig.EndpointSettings;
import dev.meshwork.agent.AgentConfig.LocalServices;
import dev.meshwork.agent.AgentConfig.PolicyEnforcement;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@link AgentConfig} of an agent under test, built so that a test names only the settings it
 * cares about. The rest are the test defaults: cluster {@code k8s-test-cluster} with id 1, node
 * {@code node-1}, no local etcd, no cache TTL, fake datapath, any free metrics port, the
 * clustermesh directory polled every 100 ms, policies off, local services {@code auto}, remotes
 * read directly, no endpoint manager.
 */
public final class TestAgentConfig {
  private ClusterName clusterName = ClusterName.of("k8s-test-cluster");
  private ClusterId clusterId = ClusterId.of(1);
  private String nodeName = "node-1";
  private Optional<Path> kvstoreConfig = Optional.empty();
  private final Path clustermeshConfigDir;
  private Optional<Duration> clustermeshCacheTtl = Optional.empty();
  private final Path apiSocket;
  private PolicyEnforcement policyEnforcement = PolicyEnforcement.DISABLED;

  private TestAgentConfig(Path clustermeshConfigDir, Path apiSocket) {
    this.clustermeshConfigDir = clustermeshConfigDir;
    this.apiSocket = apiSocket;
  }

  /** An agent reading remote clusters from {@code clustermeshConfigDir}, serving its API on {@code apiSocket}. */
  public static TestAgentConfig agentConfig(Path clustermeshConfigDir, Path apiSocket) {
    return new TestAgentConfig(clustermeshConfigDir, apiSocket);
  }

  public TestAgentConfig cluster(String name, int id) {
    this.clusterName = ClusterName.of(name);
    this.clusterId = ClusterId.of(id);
    return this;
  }

  public TestAgentConfig node(String name) {
    this.nodeName = name;
    return this;
  }

  /** The YAML file of the local cluster's etcd. */
  public TestAgentConfig localKvstore(Path config) {
    this.kvstoreConfig = Optional.of(config);
    return this;
  }

  public TestAgentConfig cacheTtl(Optional<Duration> ttl) {
    this.clustermeshCacheTtl = ttl;
    return this;
  }

  public TestAgentConfig policyEnforcement(PolicyEnforcement enforcement) {
    this.policyEnforcement = enforcement;
    return this;
  }

  public AgentConfig build() {
    return new AgentConfig(
        clusterName,
        clusterId,
        nodeName,
        kvstoreConfig,
        clustermeshConfigDir,
        clustermeshCacheTtl,
        Duration.ofMinutes(3),
        Duration.ofMillis(100),
        apiSocket,
        DatapathKind.FAKE,
        0,
        BpfSettings.DEFAULTS,
        policyEnforcement,
        true,
        LocalServices.AUTO,
        ClusterMeshSource.DIRECT,
        EndpointSettings.DISABLED);
  }
}
