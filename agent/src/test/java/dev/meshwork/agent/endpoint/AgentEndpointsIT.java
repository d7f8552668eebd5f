package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.AgentConfig.EndpointManagement;
import dev.meshwork.agent.AgentConfig.EndpointSettings;
import dev.meshwork.agent.testsupport.AgentApiClient;
import dev.meshwork.agent.testsupport.ClusterOperatorDouble;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.common.identity.PodSecurityLabels;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.lifecycle.LifecycleException;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.EndpointInfo;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's production wiring with the endpoint manager, against a real etcd (the operator's
 * identities arrive through the kvstore) and a mock Kubernetes API (pods and the node's
 * MeshNode), on a FakeDatapath and FakeLinkManager: what kubelet's CNI calls see through the
 * agent's socket.
 */
@EnableKubernetesMockClient(crud = true)
class AgentEndpointsIT {
  static final String CLUSTER = "k8s-shared-cluster";
  static final int CLUSTER_ID = 2;
  static final String NODE = "shared-node-1";

  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

  KubernetesMockServer server;
  KubernetesClient client;
  @TempDir Path tmp;
  ClusterOperatorDouble operator;
  Path localConfig;
  Path stateDir;
  final FakeLinkManager links = new FakeLinkManager();
  final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
    operator = new ClusterOperatorDouble(etcd, CLUSTER, CLUSTER_ID);
    closeables.add(operator);
    localConfig = operator.writeConfigFile(Files.createDirectories(tmp.resolve("local")));
    operator.writeClusterConfig();
    operator.node(NODE, "198.18.0.1", "10.1.3.0/24");
    operator.synced();
    stateDir = tmp.resolve("endpoints");
  }

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }

  @Test
  void takesThePodCidrFromTheMeshNodeAndGivesAnAddedPodAnAddressAndItsIdentity() throws Exception {
    Agent agent = new Agent(settings(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    CompletableFuture<Void> started = CompletableFuture.runAsync(agent.lifecycle::start);

    // Without its MeshNode the agent waits, and serves nothing yet.
    Thread.sleep(1500);
    assertThat(started).isNotDone();
    assertThat(agent.socket).doesNotExist();

    createMeshNode(NODE, "10.1.3.0/24");
    started.get(20, TimeUnit.SECONDS);

    int identity = publishPodWithIdentity("web-1", Map.of("app", "web"), 300);
    CniResponse added = agent.add(addRequest("ctr-web-1", "web-1"));

    assertThat(added.hasError()).as("%s", added).isFalse();
    assertThat(added.getResult().getIps(0).getAddress()).isEqualTo("10.1.3.2/32");
    assertThat(added.getResult().getIps(0).getGateway()).isEqualTo("10.1.3.1");
    Endpoint programmed = agent.datapath.snapshot().endpoints().get(Ipv4.parse("10.1.3.2"));
    assertThat(programmed.identity()).isEqualTo(identity);

    List<EndpointInfo> listed = agent.endpointList();
    assertThat(listed).singleElement().satisfies(e -> {
      assertThat(e.getId()).isEqualTo(programmed.id());
      assertThat(e.getIdentity()).isEqualTo(identity);
      assertThat(e.getLabelsList()).contains("k8s:app=web", "k8s:io.kubernetes.pod.namespace=testing");
      assertThat(e.getIpv4()).isEqualTo("10.1.3.2");
      assertThat(e.getStatus()).isEqualTo("ready");
      assertThat(e.getPodNamespace()).isEqualTo("testing");
      assertThat(e.getPodName()).isEqualTo("web-1");
      assertThat(e.getHostInterface()).isEqualTo(programmed.hostInterface());
    });
  }

  @Test
  void anAddWaitsForTheIdentityThatTheOperatorPublishesWhileItWaits() throws Exception {
    createMeshNode(NODE, "10.1.3.0/24");
    Agent agent = started(settings(Optional.empty(), Duration.ofSeconds(20), Duration.ofSeconds(30)));
    createPod("late-1", Map.of("app", "late"));

    CompletableFuture<CniResponse> added = CompletableFuture.supplyAsync(() -> agent.add(addRequest("ctr-late-1", "late-1")));
    Thread.sleep(1000);
    assertThat(added).isNotDone();
    operator.identity(301, labelsOf("late-1", Map.of("app", "late")).toArray(String[]::new));

    CniResponse response = added.get(20, TimeUnit.SECONDS);
    assertThat(response.hasError()).as("%s", response).isFalse();
    assertThat(agent.endpointList()).singleElement()
        .satisfies(e -> assertThat(e.getIdentity()).isEqualTo(CLUSTER_ID << 16 | 301));
  }

  @Test
  void anAddFailsWithCode112AndLeavesNothingWhenTheOperatorNeverPublishesTheIdentity() throws Exception {
    createMeshNode(NODE, "10.1.3.0/24");
    Agent agent = started(settings(Optional.empty(), Duration.ofSeconds(1), Duration.ofSeconds(30)));
    createPod("orphan-1", Map.of("app", "orphan"));

    CniResponse response = agent.add(addRequest("ctr-orphan-1", "orphan-1"));

    assertThat(response.hasError()).isTrue();
    assertThat(response.getError().getCode()).isEqualTo(CniFailure.NO_IDENTITY);
    assertThat(response.getError().getMsg()).contains("pod testing/orphan-1");
    assertThat(agent.endpointList()).isEmpty();
    assertThat(agent.datapath.snapshot().endpoints()).isEmpty();
    assertThat(links.links()).isEmpty();
  }

  @Test
  void aRestartedAgentKeepsItsEndpointsAndNeverReusesTheirAddresses() throws Exception {
    createMeshNode(NODE, "10.1.3.0/24");
    Agent first = started(settings(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(30)));
    publishPodWithIdentity("db-1", Map.of("app", "db"), 310);
    String address = first.add(addRequest("ctr-db-1", "db-1")).getResult().getIps(0).getAddress();
    List<EndpointInfo> before = first.endpointList();
    first.close();

    Agent second = started(settings(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(30)));

    assertThat(second.endpointList()).isEqualTo(before);
    assertThat(second.datapath.snapshot().endpoints()).containsKey(IpPrefix.parse(address).address());
    publishPodWithIdentity("db-2", Map.of("app", "db", "shard", "2"), 311);
    CniResponse next = second.add(addRequest("ctr-db-2", "db-2"));
    assertThat(next.getResult().getIps(0).getAddress()).isNotEqualTo(address);
    assertThat(second.add(addRequest("ctr-db-1", "db-1")).getError().getCode())
        .as("the restored attachment still exists").isEqualTo(CniFailure.ALREADY_EXISTS);
  }

  @Test
  void aPodCidrSettingIsUsedWithoutAMeshNode() throws Exception {
    Agent agent = started(settings(Optional.of(IpPrefix.parse("10.1.9.0/26")), Duration.ofSeconds(5), Duration.ofSeconds(1)));
    publishPodWithIdentity("fixed-1", Map.of("app", "fixed"), 320);

    assertThat(agent.add(addRequest("ctr-fixed-1", "fixed-1")).getResult().getIps(0).getAddress())
        .isEqualTo("10.1.9.2/32");
  }

  @Test
  void startFailsNamingTheMeshNodeWhenTheOperatorNeverWritesThePodCidr() {
    Agent agent = new Agent(settings(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(2)));

    assertThatThrownBy(agent.lifecycle::start)
        .isInstanceOf(LifecycleException.class)
        .hasMessageContaining("endpoints")
        .hasMessageContaining("node " + NODE + " has no pod CIDR after 2 s: MeshNode " + NODE + " does not exist")
        .hasMessageContaining("--pod-cidr (MESHWORK_POD_CIDR)");
    assertThat(agent.socket).doesNotExist();
  }

  @Test
  void aMeshNodeWithoutAnIpv4PodCidrKeepsTheAgentWaitingAndIsNamedInTheError() {
    createMeshNode(NODE, "fd00::/64");
    Agent agent = new Agent(settings(Optional.empty(), Duration.ofSeconds(5), Duration.ofSeconds(1)));

    assertThatThrownBy(agent.lifecycle::start)
        .hasMessageContaining("MeshNode " + NODE + " has no usable IPv4 entry in spec.podCIDRs [fd00::/64]");
  }

  // ---- fixtures ------------------------------------------------------------------------------

  EndpointSettings settings(Optional<IpPrefix> podCidr, Duration identityTimeout, Duration podCidrTimeout) {
    return new EndpointSettings(EndpointManagement.ENABLED, stateDir, 1450, identityTimeout, podCidr, podCidrTimeout,
        EndpointLinks.NETLINK);
  }

  Agent started(EndpointSettings settings) {
    Agent agent = new Agent(settings);
    agent.lifecycle.start();
    return agent;
  }

  void createMeshNode(String name, String... cidrs) {
    GenericKubernetesResource meshNode =
        new GenericKubernetesResourceBuilder()
            .withApiVersion("meshwork.dev/v1alpha1")
            .withKind("MeshNode")
            .withNewMetadata().withName(name).endMetadata()
            .addToAdditionalProperties("spec", Map.of("podCIDRs", List.of(cidrs)))
            .build();
    client.genericKubernetesResources(MeshNodePodCidr.MESH_NODE).resource(meshNode).create();
  }

  void createPod(String name, Map<String, String> labels) {
    client.pods().inNamespace("testing").resource(new PodBuilder()
        .withNewMetadata().withName(name).withNamespace("testing").withLabels(labels)
        .addToLabels("pod-template-hash", "5d8f7c9b4").endMetadata()
        .withNewSpec().withNodeName(NODE).withServiceAccountName("web-sa")
        .addNewContainer().withName("app").withImage("busybox").endContainer().endSpec()
        .build()).create();
  }

  static List<String> labelsOf(String pod, Map<String, String> labels) {
    return PodSecurityLabels.of(labels, "testing", "web-sa", CLUSTER);
  }

  /** A pod in the API and the identity the operator gives its labels; returns the identity. */
  int publishPodWithIdentity(String name, Map<String, String> labels, int local) {
    createPod(name, labels);
    operator.identity(local, labelsOf(name, labels).toArray(String[]::new));
    return CLUSTER_ID << 16 | local;
  }

  CniRequest addRequest(String containerId, String pod) {
    String netns = "/var/run/netns/cni-" + containerId;
    links.createNamespace(netns, "lo");
    return CniRequest.newBuilder().setContainerId(containerId).setNetns(netns).setIfname("eth0")
        .setNetworkName("meshwork").setCniVersion("1.1.0")
        .putArgs("K8S_POD_NAMESPACE", "testing").putArgs("K8S_POD_NAME", pod)
        .setConfigJson(ByteString.copyFromUtf8("{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\",\"type\":\"meshwork-cni\"}"))
        .build();
  }

  /** One agent process's worth of wiring, its socket and a client on it. */
  final class Agent implements AutoCloseable {
    final Path socket = tmp.resolve("run-" + closeables.size() + "/agent.sock");
    final FakeDatapath datapath = new FakeDatapath();
    final Lifecycle lifecycle;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    private final ManagedChannel channel;
    private boolean closed;

    Agent(EndpointSettings settings) {
      AgentConfig config = new AgentConfig(
          ClusterName.of(CLUSTER), ClusterId.of(CLUSTER_ID), NODE, Optional.of(localConfig),
          tmp.resolve("clustermesh"), Optional.empty(), Duration.ofMinutes(3), Duration.ofMillis(100), socket,
          AgentConfig.DatapathKind.FAKE, 0, AgentConfig.BpfSettings.DEFAULTS, AgentConfig.PolicyEnforcement.DISABLED,
          true, AgentConfig.LocalServices.DISABLED, AgentConfig.ClusterMeshSource.DIRECT, settings);
      lifecycle = DaggerEndpointTestAgentComponent.factory()
          .create(config, datapath, Optional.of(client), links).lifecycle();
      channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
          .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
      closeables.add(this);
    }

    CniResponse add(CniRequest request) {
      return EndpointServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS).add(request);
    }

    List<EndpointInfo> endpointList() {
      try (AgentApiClient api = new AgentApiClient(socket)) {
        return api.inspection().listEndpoints(ListRequest.getDefaultInstance()).getEndpointsList();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() throws Exception {
      if (closed) return;
      closed = true;
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      lifecycle.stop();
    }
  }
}
