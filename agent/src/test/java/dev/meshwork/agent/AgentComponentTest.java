package dev.meshwork.agent;

import static dev.meshwork.agent.testsupport.TestAgentConfig.agentConfig;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.testsupport.AgentApiClient;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.ListRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The production component, as AgentMain builds it, without any etcd. */
class AgentComponentTest {
  @TempDir Path tmp;

  @Test
  void startsServesTheApiOnItsSocketAndStopsCleanly() throws Exception {
    Path socket = tmp.resolve("run/agent.sock");
    Path meshDir = Files.createDirectories(tmp.resolve("clustermesh"));
    Files.writeString(meshDir.resolve("Not_A_Cluster"), "endpoints: [http://127.0.0.1:1]\n");
    // Certificates mounted from the clustermesh Secret beside the configs are not clusters.
    Files.writeString(meshDir.resolve("k8s-shared-cluster.etcd-client.crt"), "-----BEGIN CERTIFICATE-----\n");
    Files.writeString(meshDir.resolve("k8s-shared-cluster.etcd-client-ca.crt"), "-----BEGIN CERTIFICATE-----\n");
    AgentConfig config = agentConfig(meshDir, socket).cluster("k8s-test-cluster", 1).build();
    AgentComponent component = DaggerAgentComponent.factory().create(config);
    Lifecycle lifecycle = component.lifecycle();
    lifecycle.start();
    try (AgentApiClient client = new AgentApiClient(socket)) {
      assertThat(component.datapath()).isInstanceOf(FakeDatapath.class);
      ClusterMeshStatus status = client.inspection().getClusterMeshStatus(ListRequest.getDefaultInstance());
      assertThat(status.getLocalCluster()).isEqualTo("k8s-test-cluster");
      assertThat(status.getLocalClusterId()).isEqualTo(1);
      assertThat(status.getRemotesList()).singleElement().satisfies(r -> {
        assertThat(r.getName()).isEqualTo("Not_A_Cluster");
        assertThat(r.getStatus()).startsWith("invalid config:").contains("cluster name");
      });
      assertThat(Files.getPosixFilePermissions(socket)).hasSize(2);
    } finally {
      lifecycle.stop();
    }
    assertThat(socket).doesNotExist();
  }
}
