package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.AgentMain;
import dev.meshwork.agent.testsupport.AgentApiClient;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import dev.meshwork.proto.v1.ListRequest;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshwork-agent} as a process, wired by the production {@code AgentComponent}, with only
 * {@code KUBECONFIG} pointing at a mock Kubernetes API (as the sandbox starts agents): it finds the
 * API by itself, waits for its MeshNode, then serves the CNI plugin. No ADD is made: the agent
 * runs in the host namespace here and would create veths there.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class AgentProcessEndpointsIT {
  static final String NODE = "proc-node-1";

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;
  Process agent;
  Path log;

  @BeforeEach
  void kubeconfig() throws Exception {
    Files.writeString(tmp.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster:
            server: %s
        contexts:
        - name: mock
          context: {cluster: mock, user: mock, namespace: default}
        current-context: mock
        users:
        - name: mock
          user: {token: test}
        """.formatted(client.getConfiguration().getMasterUrl()));
    Files.createDirectories(tmp.resolve("clustermesh"));
  }

  @AfterEach
  void stop() throws Exception {
    if (agent != null && agent.isAlive()) {
      agent.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  private void startAgent() throws Exception {
    log = tmp.resolve("agent.log");
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        AgentMain.class.getName(),
        "--cluster-name=k8s-test-cluster", "--cluster-id=1", "--node-name=" + NODE,
        "--clustermesh-config-dir=" + tmp.resolve("clustermesh"), "--api-socket=" + tmp.resolve("agent.sock"),
        "--metrics-port=0", "--policy-enforcement=disabled",
        "--endpoint-state-dir=" + tmp.resolve("endpoints"), "--pod-cidr-timeout=10m");
    builder.environment().put("KUBECONFIG", tmp.resolve("kubeconfig").toString());
    builder.environment().keySet().removeIf(k -> k.startsWith("MESHWORK_") || k.equals("KUBERNETES_SERVICE_HOST"));
    builder.redirectErrorStream(true).redirectOutput(log.toFile());
    agent = builder.start();
  }

  private String log() throws Exception {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Test
  void findsTheApiThroughKubeconfigWaitsForItsMeshNodeThenServesTheCniPlugin() throws Exception {
    startAgent();
    await().atMost(Duration.ofSeconds(60)).until(() -> log().contains("waiting for the pod CIDR in MeshNode " + NODE));
    assertThat(tmp.resolve("agent.sock")).as("no API before the endpoints are restored").doesNotExist();

    client.genericKubernetesResources(MeshNodePodCidr.MESH_NODE).resource(new GenericKubernetesResourceBuilder()
        .withApiVersion("meshwork.dev/v1alpha1").withKind("MeshNode").withNewMetadata().withName(NODE).endMetadata()
        .addToAdditionalProperties("spec", Map.of("podCIDRs", List.of("10.1.7.0/24"))).build()).create();

    await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(tmp.resolve("agent.sock")));
    assertThat(log()).contains("pod CIDR 10.1.7.0/24 from MeshNode " + NODE);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(tmp.resolve("agent.sock").toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
    try (AgentApiClient api = new AgentApiClient(tmp.resolve("agent.sock"))) {
      CniResponse status = EndpointServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .status(CniRequest.newBuilder().setCniVersion("1.1.0").setNetworkName("meshwork").build());
      assertThat(status.hasError()).as("%s", status).isFalse();
      assertThat(api.inspection().listEndpoints(ListRequest.getDefaultInstance()).getEndpointsList()).isEmpty();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }

    agent.destroy();
    assertThat(agent.waitFor(30, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aSigtermWhileWaitingForThePodCidrStopsTheAgentWithoutWaitingOutTheTimeout() throws Exception {
    startAgent();
    await().atMost(Duration.ofSeconds(60)).until(() -> log().contains("waiting for the pod CIDR in MeshNode " + NODE));

    agent.destroy(); // SIGTERM; --pod-cidr-timeout is 10 minutes

    assertThat(agent.waitFor(60, TimeUnit.SECONDS)).as("stopped; log:%n%s", log()).isTrue();
    assertThat(tmp.resolve("agent.sock")).doesNotExist();
  }
}
