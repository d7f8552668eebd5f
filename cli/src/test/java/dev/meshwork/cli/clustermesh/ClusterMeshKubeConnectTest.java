package dev.meshwork.cli.clustermesh;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.CliRun;
import io.fabric8.kubernetes.api.model.HostAlias;
import io.fabric8.kubernetes.api.model.HostAliasBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `meshwork clustermesh connect|disconnect --context A --destination-context B` against two
 * clusters (fabric8 mock API servers in CRUD mode) that hold what charts/meshwork renders for
 * them: the Secret written into each cluster, the host aliases, idempotence, dry run, and the
 * errors that name the context and object at fault.
 */
class ClusterMeshKubeConnectTest {

  private static final String SECRET = MeshNames.SECRET_NAME;

  @TempDir Path dir;
  private final List<MockCluster> clusters = new ArrayList<>();
  private MockCluster a;
  private MockCluster b;
  private Path kubeconfig;

  @BeforeEach
  void twoInstalledClusters() throws Exception {
    a = install("cluster-a", 1);
    b = install("cluster-b", 2);
    a.publishLoadBalancer("198.18.0.10", null);
    b.publishLoadBalancer("198.18.1.10", null);
    kubeconfig = MockCluster.kubeconfig(dir.resolve("kubeconfig"), a, b);
  }

  @AfterEach
  void stop() {
    clusters.forEach(MockCluster::close);
  }

  @Test
  void writesIntoEachClusterTheOthersEntryInTheOfflineFormatAndItsHostAlias() throws Exception {
    CliRun run = connect();

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains(
        "cluster-a (context cluster-a): create Secret kube-system/meshwork-clustermesh: add cluster-b (https://cluster-b.mesh.meshwork.dev:2379)",
        "cluster-a (context cluster-a): update DaemonSet kube-system/meshwork-agent: host alias cluster-b.mesh.meshwork.dev -> 198.18.1.10",
        "cluster-b (context cluster-b): create Secret kube-system/meshwork-clustermesh: add cluster-a (https://cluster-a.mesh.meshwork.dev:2379)",
        "cluster-b (context cluster-b): update DaemonSet kube-system/meshwork-agent: host alias cluster-a.mesh.meshwork.dev -> 198.18.0.10");

    Map<String, String> aSecret = a.secretData(SECRET);
    assertThat(aSecret).containsOnlyKeys(ConnectionFiles.secretFileNames("cluster-b"));
    // the very text the offline connect writes for the same endpoint and mount path
    assertThat(aSecret.get("cluster-b")).isEqualTo(String.join("\n",
        "endpoints:",
        "- https://cluster-b.mesh.meshwork.dev:2379",
        "trusted-ca-file: /var/lib/meshwork/clustermesh/cluster-b.etcd-client-ca.crt",
        "cert-file: /var/lib/meshwork/clustermesh/cluster-b.etcd-client.crt",
        "key-file: /var/lib/meshwork/clustermesh/cluster-b.etcd-client.key",
        ""));
    X509Certificate bCa = certificate(b.secretData(InstalledCluster.CA_SECRET).get("ca.crt"));
    assertThat(certificate(aSecret.get("cluster-b.etcd-client-ca.crt"))).isEqualTo(bCa);
    X509Certificate client = certificate(aSecret.get("cluster-b.etcd-client.crt"));
    client.verify(bCa.getPublicKey()); // issued by cluster-b's etcd CA
    assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=remote,OU=cluster-a,O=meshwork");
    assertThat(b.secretData(SECRET)).containsOnlyKeys(ConnectionFiles.secretFileNames("cluster-a"));

    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases())
        .containsExactly(alias("198.18.1.10", "cluster-b.mesh.meshwork.dev"));
    assertThat(b.agents().getSpec().getTemplate().getSpec().getHostAliases())
        .containsExactly(alias("198.18.0.10", "cluster-a.mesh.meshwork.dev"));
  }

  @Test
  void aSecondRunChangesNothing() {
    assertThat(connect().exitCode()).isZero();
    String secretVersion = a.secret(SECRET).getMetadata().getResourceVersion();
    String agentsVersion = a.agents().getMetadata().getResourceVersion();

    CliRun again = connect();

    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).startsWith("cluster-a and cluster-b are already connected; nothing to change");
    assertThat(a.secret(SECRET).getMetadata().getResourceVersion()).isEqualTo(secretVersion);
    assertThat(a.agents().getMetadata().getResourceVersion()).isEqualTo(agentsVersion);
  }

  @Test
  void dryRunPrintsWhatWouldChangeAndWritesNothing() {
    CliRun run = connect("--dry-run");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains(
        "cluster-a (context cluster-a): would create Secret kube-system/meshwork-clustermesh: add cluster-b",
        "cluster-b (context cluster-b): would update DaemonSet kube-system/meshwork-agent: host alias cluster-a.mesh.meshwork.dev -> 198.18.0.10");
    assertThat(a.secret(SECRET)).isNull();
    assertThat(b.secret(SECRET)).isNull();
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases()).isNullOrEmpty();
  }

  @Test
  void aNewLoadBalancerAddressMovesTheHostAliasAndKeepsTheCertificates() {
    connect();
    String certificate = a.secretData(SECRET).get("cluster-b.etcd-client.crt");
    b.publishLoadBalancer("198.18.1.99", null);

    CliRun run = connect();

    assertThat(run.out()).contains("cluster-a (context cluster-a): update DaemonSet kube-system/meshwork-agent: host alias cluster-b.mesh.meshwork.dev -> 198.18.1.99")
        .doesNotContain("Secret");
    assertThat(a.secretData(SECRET).get("cluster-b.etcd-client.crt")).isEqualTo(certificate);
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases())
        .containsExactly(alias("198.18.1.99", "cluster-b.mesh.meshwork.dev"));
  }

  @Test
  void aClientCertificateNearItsExpiryIsRenewedAndAGoodOneIsKept() {
    assertThat(connect("--validity-days", "40").exitCode()).isZero();
    InstalledCluster clusterA = InstalledCluster.read(a.client(), "cluster-a", MockCluster.NAMESPACE);
    InstalledCluster clusterB = InstalledCluster.read(b.client(), "cluster-b", MockCluster.NAMESPACE);
    CertificateAuthority bCa = clusterB.certificateAuthority(java.time.Clock.systemUTC());
    EtcdAddress bAddress = EtcdAddress.parse("198.18.1.10");

    // 40 days of validity: renewed once less than a third (13 days) is left
    List<KubeConnect.Step> today = new KubeConnect(MeshNames.DEFAULT_MOUNT_PATH, java.time.Duration.ofDays(40),
        java.time.Clock.systemUTC()).connect(clusterA, "cluster-b", bAddress, bCa);
    java.time.Clock in30Days = java.time.Clock.offset(java.time.Clock.systemUTC(), java.time.Duration.ofDays(30));
    List<KubeConnect.Step> later = new KubeConnect(MeshNames.DEFAULT_MOUNT_PATH, java.time.Duration.ofDays(40), in30Days)
        .connect(clusterA, "cluster-b", bAddress, bCa);

    assertThat(today).isEmpty();
    assertThat(later).singleElement().extracting(KubeConnect.Step::action).asString()
        .startsWith("update Secret kube-system/meshwork-clustermesh: renew cluster-b (https://cluster-b.mesh.meshwork.dev:2379):"
            + " client certificate expires ");
  }

  @Test
  void anEntryForAnotherCaIsReplaced() {
    assertThat(connect().exitCode()).isZero();
    // cluster-b reinstalled with a new CA: the old entry's certificate would be refused
    b.client().secrets().inNamespace(MockCluster.NAMESPACE).withName(InstalledCluster.CA_SECRET).edit(secret -> {
      CertificateAuthority fresh = CertificateAuthority.create("cluster-b", java.time.Duration.ofDays(10), java.time.Clock.systemUTC());
      secret.getData().put("ca.crt", java.util.Base64.getEncoder().encodeToString(PemOutput.encode(fresh.certificate()).getBytes(StandardCharsets.US_ASCII)));
      secret.getData().put("ca.key", java.util.Base64.getEncoder().encodeToString(PemOutput.encode(fresh.privateKey()).getBytes(StandardCharsets.US_ASCII)));
      return secret;
    });

    CliRun run = connect();

    assertThat(run.out()).contains("cluster-a (context cluster-a): update Secret kube-system/meshwork-clustermesh: replace cluster-b"
        + " (https://cluster-b.mesh.meshwork.dev:2379): the CA of cluster-b changed");
    assertThat(run.out()).doesNotContain("cluster-b (context cluster-b): update Secret");
  }

  @Test
  void connectingAThirdClusterKeepsTheFirstOnesEntries() throws Exception {
    MockCluster c = install("cluster-c", 3);
    c.publishLoadBalancer("198.18.2.10", null);
    kubeconfig = MockCluster.kubeconfig(dir.resolve("kubeconfig3"), a, b, c);
    assertThat(connect().exitCode()).isZero();

    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-c");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("cluster-a (context cluster-a): update Secret kube-system/meshwork-clustermesh: add cluster-c");
    assertThat(a.secretData(SECRET)).containsOnlyKeys(
        Stream.concat(ConnectionFiles.secretFileNames("cluster-b").stream(), ConnectionFiles.secretFileNames("cluster-c").stream()).toList());
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases()).containsExactly(
        alias("198.18.1.10", "cluster-b.mesh.meshwork.dev"), alias("198.18.2.10", "cluster-c.mesh.meshwork.dev"));
  }

  @Test
  void disconnectRemovesOnlyTheOtherClustersEntriesAndAlias() {
    connect();
    a.client().apps().daemonSets().inNamespace(MockCluster.NAMESPACE).withName(InstalledCluster.AGENT_DAEMONSET).edit(ds -> {
      ds.getSpec().getTemplate().getSpec().getHostAliases().add(alias("198.18.7.7", "registry.example"));
      return ds;
    });

    CliRun run = meshwork("clustermesh", "disconnect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-b");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains(
        "cluster-a (context cluster-a): update Secret kube-system/meshwork-clustermesh: remove cluster-b",
        "cluster-a (context cluster-a): update DaemonSet kube-system/meshwork-agent: remove host alias cluster-b.mesh.meshwork.dev",
        "cluster-b (context cluster-b): update Secret kube-system/meshwork-clustermesh: remove cluster-a");
    assertThat(a.secretData(SECRET)).isEmpty();
    assertThat(b.secretData(SECRET)).isEmpty();
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases()).containsExactly(alias("198.18.7.7", "registry.example"));
    CliRun again = meshwork("clustermesh", "disconnect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-b");
    assertThat(again.out()).startsWith("cluster-a and cluster-b are not connected; nothing to change");
  }

  @Test
  void withoutALoadBalancerTheNodePortOnANodesInternalIpIsUsed() {
    b.publishLoadBalancer(null, null);
    b.client().services().inNamespace(MockCluster.NAMESPACE).withName(InstalledCluster.EXTERNAL_SERVICE).editStatus(s -> {
      s.getStatus().setLoadBalancer(null);
      return s;
    });
    b.assignNodePort(32379);
    b.addNode("node-2", "198.18.1.22");
    b.addNode("node-1", "198.18.1.21");

    CliRun run = connect();

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(a.secretData(SECRET).get("cluster-b")).contains("- https://cluster-b.mesh.meshwork.dev:32379");
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases())
        .containsExactly(alias("198.18.1.21", "cluster-b.mesh.meshwork.dev"));
  }

  @Test
  void aLoadBalancerHostNameIsTheEndpointAndAMissingServerNameIsReported() {
    b.publishLoadBalancer(null, "etcd-b.elb.example.com");

    CliRun run = connect();

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(a.secretData(SECRET).get("cluster-b")).contains("- https://etcd-b.elb.example.com:2379");
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases()).isNullOrEmpty();
    assertThat(run.err()).contains("meshwork: warning: cluster-b (context cluster-b): the etcd server certificate (Secret"
        + " kube-system/meshwork-etcd-server) does not name etcd-b.elb.example.com", "etcd.tls.extraSans");
  }

  @Test
  void anExplicitDestinationEndpointWinsOverTheService() {
    CliRun run = connect("--destination-endpoint", "198.18.5.5:2379");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(a.agents().getSpec().getTemplate().getSpec().getHostAliases())
        .containsExactly(alias("198.18.5.5", "cluster-b.mesh.meshwork.dev"));
  }

  @Test
  void aServiceWithoutAnyAddressIsAnErrorNamingItAndTheFlag() {
    b.client().services().inNamespace(MockCluster.NAMESPACE).withName(InstalledCluster.EXTERNAL_SERVICE).editStatus(s -> {
      s.getStatus().setLoadBalancer(null);
      return s;
    });

    CliRun run = connect();

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: context cluster-b: Service kube-system/meshwork-etcd-external has no load balancer"
        + " address (yet) and no node port: give the address of cluster cluster-b's etcd with --destination-endpoint\n");
    assertThat(a.secret(SECRET)).isNull();
  }

  @Test
  void anUnknownContextIsAnErrorListingTheKnownOnes() {
    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-x");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("meshwork: unknown kubeconfig context \"cluster-x\" (known: cluster-a, cluster-b; kubeconfig: " + kubeconfig);
  }

  @Test
  void aClusterWithoutTheChartIsAnErrorNamingTheContextAndConfigMap() throws Exception {
    MockCluster bare = MockCluster.empty("bare");
    clusters.add(bare);
    kubeconfig = MockCluster.kubeconfig(dir.resolve("kubeconfig-bare"), a, bare);

    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "bare");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: context bare: ConfigMap kube-system/meshwork-agent-config not found: is the meshwork"
        + " chart installed in namespace kube-system? (--namespace)\n");
  }

  @Test
  void anUnreachableApiServerIsAnErrorNamingTheContext() throws Exception {
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    java.nio.file.Files.writeString(kubeconfig, java.nio.file.Files.readString(kubeconfig).replace(b.url(), "http://127.0.0.1:" + closedPort + "/"));

    CliRun run = connect();

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("meshwork: context cluster-b: cannot read ConfigMap kube-system/meshwork-agent-config: ");
  }

  @Test
  void aMissingCaSecretIsAnErrorNamingIt() {
    b.client().secrets().inNamespace(MockCluster.NAMESPACE).withName(InstalledCluster.CA_SECRET).delete();

    CliRun run = connect();

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("meshwork: context cluster-b: Secret kube-system/meshwork-etcd-ca not found");
    assertThat(a.secret(SECRET)).isNull();
  }

  @Test
  void twoClustersWithTheSameIdAreRefused() throws Exception {
    MockCluster twin = install("cluster-twin", 1);
    twin.publishLoadBalancer("198.18.3.10", null);
    kubeconfig = MockCluster.kubeconfig(dir.resolve("kubeconfig-twin"), a, twin);

    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-twin");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: clusters cluster-a (context cluster-a) and cluster-twin (context cluster-twin) both have"
        + " cluster id 1 (chart value cluster.id): ids must be unique in the mesh\n");
  }

  @Test
  void twoContextsOfClustersWithTheSameNameAreRefused() throws Exception {
    MockCluster other = install("cluster-a", 9);
    Path config = dir.resolve("kubeconfig-clash");
    java.nio.file.Files.writeString(config, java.nio.file.Files.readString(MockCluster.kubeconfig(dir.resolve("k1"), a, b))
        .replace(b.url(), other.url()).replace("name: cluster-b", "name: other-a").replace("cluster: cluster-b", "cluster: other-a"));

    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", config.toString(), "--context", "cluster-a", "--destination-context", "other-a");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: contexts cluster-a and other-a are both cluster cluster-a (chart value cluster.name):"
        + " every cluster of a mesh needs its own name\n");
  }

  @Test
  void aClustermeshSecretRenderedByTheChartIsNotOverwritten() {
    a.client().secrets().inNamespace(MockCluster.NAMESPACE).resource(new SecretBuilder().withNewMetadata().withName(SECRET)
        .addToLabels("app.kubernetes.io/managed-by", "Helm").endMetadata().build()).create();

    CliRun run = connect();

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).startsWith("meshwork: context cluster-a: Secret kube-system/meshwork-clustermesh is rendered by the chart"
        + " (value clustermesh.config.enabled=true)");
    assertThat(b.secret(SECRET)).isNull();
  }

  @Test
  void theSameContextTwiceAndOfflineOptionsAreUsageErrors() {
    CliRun same = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-a");
    CliRun mixed = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a",
        "--destination-context", "cluster-b", "--out", dir.toString());
    CliRun half = meshwork("clustermesh", "connect", "--context", "cluster-a");

    assertThat(same.exitCode()).isEqualTo(2);
    assertThat(same.err()).contains("--context and --destination-context are both cluster-a: a cluster is not connected to itself");
    assertThat(mixed.exitCode()).isEqualTo(2);
    assertThat(mixed.err()).contains("--cluster, --out, --only and --create-missing-ca are for the offline form");
    assertThat(half.exitCode()).isEqualTo(2);
    assertThat(half.err()).contains("--context and --destination-context go together (missing: --destination-context)");
  }

  @Test
  void statusAcrossContextsHasNoJsonOutputNorClusterFilter() {
    CliRun run = meshwork("clustermesh", "status", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "-o", "json");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("with --context the status is a table of every cluster");
  }

  private CliRun connect(String... extra) {
    List<String> args = new ArrayList<>(List.of("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(),
        "--context", "cluster-a", "--destination-context", "cluster-b"));
    args.addAll(List.of(extra));
    return meshwork(args.toArray(String[]::new));
  }

  private MockCluster install(String name, int id) {
    MockCluster cluster = MockCluster.install(name, id, Map.of());
    clusters.add(cluster);
    return cluster;
  }

  private static HostAlias alias(String ip, String hostname) {
    return new HostAliasBuilder().withIp(ip).withHostnames(hostname).build();
  }

  private static X509Certificate certificate(String pem) throws Exception {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }
}
