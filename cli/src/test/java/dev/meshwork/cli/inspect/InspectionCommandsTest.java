package dev.meshwork.cli.inspect;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import dev.meshwork.cli.testing.BlogMesh;
import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.cli.testing.FakeAgent;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.EndpointList;
import dev.meshwork.proto.v1.IdentityList;
import dev.meshwork.proto.v1.LoadBalancerEntryList;
import dev.meshwork.proto.v1.NodeList;
import dev.meshwork.proto.v1.ServiceList;
import dev.meshwork.proto.v1.TunnelList;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every inspection command against a fake agent on a Unix socket holding the blog's mesh. */
class InspectionCommandsTest {

  @TempDir Path dir;
  private FakeAgent agent;
  private String socket;

  @BeforeEach
  void startAgent() throws Exception {
    agent = FakeAgent.start(dir.resolve("agent.sock"));
    BlogMesh.serveFrom(agent);
    socket = agent.socket().toString();
  }

  @AfterEach
  void stopAgent() throws Exception {
    agent.close();
  }

  @Test
  void nodeListShowsRemoteNodesAsClusterSlashNodeAndLocalOnesPlain() {
    CliRun run = meshwork("node", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        Name                                                              IPv4 Address     Endpoint CIDR   Source
        ip-192-168-10-19.us-west-2.compute.internal                       192.168.10.19    10.1.1.0/24     kvstore
        ip-192-168-2-234.us-west-2.compute.internal                       192.168.2.234    10.1.0.0/24     local
        k8s-shared-cluster/ip-192-168-18-202.us-west-2.compute.internal   192.168.18.202   10.2.0.0/24     clustermesh
        k8s-shared-cluster/ip-192-168-19-207.us-west-2.compute.internal   192.168.19.207   10.2.1.0/24     clustermesh
        """);
  }

  @Test
  void bpfTunnelListMapsEachRemotePodCidrToItsNodeInAddressOrder() {
    CliRun run = meshwork("bpf", "tunnel", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        TUNNEL        VALUE
        10.1.1.0/24   192.168.10.19
        10.2.0.0/24   192.168.18.202
        10.2.1.0/24   192.168.19.207
        """);
  }

  @Test
  void serviceListShowsTheSharedClustersPodsAsBackendsOfTheTestClustersClusterIp() {
    CliRun run = meshwork("service", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        ID   Frontend              Service Type   Backend
        1    10.100.0.1:443/TCP    ClusterIP      1 => 192.168.2.10:443/TCP (active)
        7    10.100.3.165:80/TCP   ClusterIP      1 => 10.2.0.163:3000/TCP (active)
                                                  2 => 10.2.1.87:3000/TCP (active)
        """);
  }

  @Test
  void bpfLbListGroupsSlotsUnderTheirFrontendWithTheMasterEntryFirst() {
    CliRun run = meshwork("bpf", "lb", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        SERVICE ADDRESS       BACKEND ADDRESS (REVNAT_ID) (SLOT)
        10.100.0.1:443/TCP    0.0.0.0:0 (1) (0)
                              192.168.2.10:443/TCP (1) (1)
        10.100.3.165:80/TCP   0.0.0.0:0 (7) (0)
                              10.2.0.163:3000/TCP (7) (1)
                              10.2.1.87:3000/TCP (7) (2)
        """);
  }

  @Test
  void identityListPrintsOneLabelPerLineOrderedById() {
    CliRun run = meshwork("identity", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        ID       LABELS
        1        reserved:host
        2        reserved:world
        65793    k8s:app=frontend
                 k8s:io.cilium.k8s.policy.cluster=k8s-test-cluster
                 k8s:io.cilium.k8s.policy.serviceaccount=default
                 k8s:io.kubernetes.pod.namespace=testing
                 k8s:role=web-service
        131329   k8s:app=backend
                 k8s:io.cilium.k8s.policy.cluster=k8s-shared-cluster
                 k8s:io.cilium.k8s.policy.serviceaccount=default
                 k8s:io.kubernetes.pod.namespace=testing
                 k8s:role=database-service
        """);
  }

  @Test
  void endpointListUsesCiliumsTwoLineHeaderAndEnforcementWords() {
    CliRun run = meshwork("endpoint", "list", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("""
        ENDPOINT   POLICY (ingress)   POLICY (egress)   IDENTITY   LABELS (source:key[=value])                         IPv4        STATUS
                   ENFORCEMENT        ENFORCEMENT
        211        Enabled            Disabled          4          reserved:health                                     10.1.0.12   ready
        1034       Disabled           Disabled          65793      k8s:app=frontend                                    10.1.0.97   ready
                                                                   k8s:io.cilium.k8s.policy.cluster=k8s-test-cluster
                                                                   k8s:io.cilium.k8s.policy.serviceaccount=default
                                                                   k8s:io.kubernetes.pod.namespace=testing
                                                                   k8s:role=web-service
        """);
  }

  @Test
  void clusterMeshStatusShowsEveryRemoteWithCountsFailuresAndRefusals() {
    CliRun run = meshwork("clustermesh", "status", "--socket", socket);

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).startsWith("""
        Local cluster:   k8s-test-cluster (id 1)
        Remote state:    direct (each remote cluster's etcd)
        Remote clusters: 1/2 ready

        CLUSTER              ID   CONNECTED   READY   NODES   ENDPOINTS   IDENTITIES   SERVICES   RECONNECTIONS   LAST FAILURE""");
    assertThat(run.out().lines())
        .anySatisfy(line -> assertThat(line).matches(
            "k8s-other-cluster +- +yes +no +0 +0 +0 +0 +0 +never +refused: cluster id 1 is also used by k8s-test-cluster"))
        .anySatisfy(line -> assertThat(line).matches(
            "k8s-shared-cluster +2 +yes +yes +2 +2 +1 +1 +1 +2026-06-09T10:13:20Z etcd https://k8s-shared-cluster.mesh.meshwork.dev:2379: connection refused +ready"));
  }

  @Test
  void clusterMeshStatusInCacheModeShowsTheMirrorLag() {
    agent.clusterMesh = BlogMesh.clusterMesh().toBuilder().setSource("cache")
        .setRemotes(0, BlogMesh.clusterMesh().getRemotes(0).toBuilder().setMirrorLagMillis(120).setMirrorLagKnown(true))
        .build();

    CliRun run = meshwork("clustermesh", "status", "--socket", socket);

    assertThat(run.out()).contains("Remote state:    cache (kvstore-sync mirror in the local etcd)");
    assertThat(run.out()).contains("MIRROR LAG");
    assertThat(run.out().lines()).anySatisfy(line -> assertThat(line).startsWith("k8s-shared-cluster").contains(" 120 ms "));
  }

  @Test
  void clusterMeshStatusInCacheModeShowsADashUntilTheLagIsMeasured() {
    agent.clusterMesh = BlogMesh.clusterMesh().toBuilder().setSource("cache").build();

    CliRun run = meshwork("clustermesh", "status", "--socket", socket);

    assertThat(run.out().lines()).anySatisfy(line -> assertThat(line).startsWith("k8s-shared-cluster").contains(" -  ").doesNotContain(" 0 ms"));
  }

  static Stream<Arguments> everyListCommand() {
    return Stream.of(
        Arguments.of(new String[] {"node", "list"}, BlogMesh.nodes()),
        Arguments.of(new String[] {"bpf", "tunnel", "list"}, BlogMesh.tunnels()),
        Arguments.of(new String[] {"service", "list"}, BlogMesh.services()),
        Arguments.of(new String[] {"bpf", "lb", "list"}, BlogMesh.lbEntries()),
        Arguments.of(new String[] {"identity", "list"}, BlogMesh.identities()),
        Arguments.of(new String[] {"endpoint", "list"}, BlogMesh.endpoints()),
        Arguments.of(new String[] {"clustermesh", "status"}, BlogMesh.clusterMesh()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("everyListCommand")
  void jsonOutputIsTheAgentsAnswerInProtobufJson(String[] command, Message expected) throws Exception {
    CliRun run = meshwork(concat(command, "-o", "json", "--socket", socket));

    assertThat(run.exitCode()).isZero();
    Message.Builder parsed = expected.newBuilderForType();
    JsonFormat.parser().merge(run.out(), parsed);
    assertThat(parsed.build()).isEqualTo(expected);
  }

  @Test
  void jsonOutputKeepsFieldsAtTheirDefaultValue() {
    CliRun run = meshwork("node", "list", "-o", "json", "--socket", socket);

    // A remote node has localCluster=false: scripts can rely on the key being there.
    assertThat(run.out()).contains("\"localCluster\": false").contains("\"cluster\": \"k8s-shared-cluster\"");
  }

  @Test
  void socketIsAlsoAcceptedBeforeTheSubcommand() {
    CliRun run = meshwork("--socket", socket, "bpf", "tunnel", "list");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("10.2.0.0/24   192.168.18.202");
  }

  @Test
  void clusterFilterIsPassedToTheAgent() {
    meshwork("node", "list", "--cluster", BlogMesh.SHARED, "--socket", socket);

    assertThat(agent.lastRequest().getCluster()).isEqualTo(BlogMesh.SHARED);
  }

  @Test
  void emptyAnswersPrintOnlyTheHeader() {
    agent.nodes = NodeList.getDefaultInstance();
    agent.tunnels = TunnelList.getDefaultInstance();
    agent.services = ServiceList.getDefaultInstance();
    agent.lbEntries = LoadBalancerEntryList.getDefaultInstance();
    agent.identities = IdentityList.getDefaultInstance();
    agent.endpoints = EndpointList.getDefaultInstance();
    agent.clusterMesh = ClusterMeshStatus.newBuilder().setLocalCluster("solo").setLocalClusterId(3).setSource("direct").build();

    assertThat(meshwork("node", "list", "--socket", socket).out()).isEqualTo("Name   IPv4 Address   Endpoint CIDR   Source\n");
    assertThat(meshwork("bpf", "tunnel", "list", "--socket", socket).out()).isEqualTo("TUNNEL   VALUE\n");
    assertThat(meshwork("clustermesh", "status", "--socket", socket).out()).endsWith("Remote clusters: 0/0 ready\n");
  }

  private static String[] concat(String[] head, String... tail) {
    return Stream.concat(Stream.of(head), Stream.of(tail)).toArray(String[]::new);
  }
}
