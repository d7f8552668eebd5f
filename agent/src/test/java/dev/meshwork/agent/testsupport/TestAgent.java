package dev.meshwork.agent.testsupport;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
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
  private final AgentApiClient client;

  public TestAgent(
      String cluster, int id, String node, Path localConfig, Path configDir, Path socket, RecordingDatapath datapath,
      Optional<Duration> cacheTtl) {
    this.config =
        new AgentConfig(
            ClusterName.of(cluster),
            ClusterId.of(id),
            node,
            Optional.of(localConfig),
            configDir,
            cacheTtl,
            Duration.ofMinutes(3),
            Duration.ofMillis(100),
            socket,
            AgentConfig.DatapathKind.FAKE,
            0,
            AgentConfig.BpfSettings.DEFAULTS);
    this.datapath = datapath;
    TestAgentComponent component = DaggerTestAgentComponent.factory().create(config, datapath);
    this.lifecycle = component.lifecycle();
    this.mesh = component.clusterMesh();
    this.reconciler = component.reconciler();
    this.metrics = component.metrics();
    lifecycle.start();
    this.client = new AgentApiClient(socket);
  }

  public dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub api() {
    return client.inspection();
  }

  @Override
  public void close() throws Exception {
    client.close();
    lifecycle.stop();
  }
}
