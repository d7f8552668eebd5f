package dev.meshwork.agent.testsupport;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.kubernetes.LocalServiceWatcher;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.agent.policy.PolicyEngine;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** An agent built from the production wiring, on a recording fake datapath and a temp socket. */
public final class TestAgent implements AutoCloseable {
  public final AgentConfig config;
  public final RecordingDatapath datapath;
  public final Lifecycle lifecycle;
  public final ClusterMesh mesh;
  public final DatapathReconciler reconciler;
  public final Metrics metrics;
  public final PolicyEngine policy;
  public final Optional<LocalServiceWatcher> localServices;
  private final AgentApiClient client;

  public TestAgent(
      String cluster, int id, String node, Path localConfig, Path configDir, Path socket, RecordingDatapath datapath,
      Optional<Duration> cacheTtl) {
    this(cluster, id, node, localConfig, configDir, socket, datapath, cacheTtl, Optional.empty());
  }

  /** An agent enforcing the network policies of {@code kubernetes} when present. */
  public TestAgent(
      String cluster, int id, String node, Path localConfig, Path configDir, Path socket, RecordingDatapath datapath,
      Optional<Duration> cacheTtl, Optional<KubernetesClient> kubernetes) {
    this(config(cluster, id, node, localConfig, configDir, socket, cacheTtl, kubernetes), datapath, kubernetes);
  }

  /** The settings the other constructors use; tests adjust them (e.g. cache mode) and pass them back. */
  public static AgentConfig config(
      String cluster, int id, String node, Path localConfig, Path configDir, Path socket, Optional<Duration> cacheTtl,
      Optional<KubernetesClient> kubernetes) {
    return TestAgentConfig.agentConfig(configDir, socket)
        .cluster(cluster, id)
        .node(node)
        .localKvstore(localConfig)
        .cacheTtl(cacheTtl)
        .policyEnforcement(
            kubernetes.isPresent() ? AgentConfig.PolicyEnforcement.ENABLED : AgentConfig.PolicyEnforcement.DISABLED)
        .build();
  }

  /** An agent with exactly these settings; {@code kubernetes} is its local Kubernetes API, if any. */
  public TestAgent(AgentConfig config, RecordingDatapath datapath, Optional<KubernetesClient> kubernetes) {
    this.config = config;
    this.datapath = datapath;
    TestAgentComponent component = DaggerTestAgentComponent.factory().create(config, datapath, kubernetes);
    this.lifecycle = component.lifecycle();
    this.mesh = component.clusterMesh();
    this.reconciler = component.reconciler();
    this.metrics = component.metrics();
    this.policy = component.policyEngine();
    this.localServices = component.localServices();
    lifecycle.start();
    this.client = new AgentApiClient(config.apiSocket());
  }

  public dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub api() {
    return client.inspection();
  }

  public dev.meshwork.proto.v1.PolicyServiceGrpc.PolicyServiceBlockingStub policyApi() {
    return client.policy();
  }

  @Override
  public void close() throws Exception {
    client.close();
    lifecycle.stop();
  }
}
