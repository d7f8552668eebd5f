package dev.meshwork.cli.clustermesh;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.proto.v1.SyncedCanary;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `connect --context` used for real: each cluster's etcd is a real etcd serving TLS with the
 * server certificate the chart rendered for it (Secret meshwork-etcd-server) and requiring client
 * certificates from the chart's CA. The entries connect writes into the clusters reach the other
 * etcd, and `status --context` reports the mesh from them.
 */
class ClusterMeshKubeConnectEtcdIT {

  @TempDir Path dir;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private MockCluster a;
  private MockCluster b;
  private TlsEtcdProcess etcdA;
  private TlsEtcdProcess etcdB;
  private Path kubeconfig;

  @BeforeEach
  void twoClustersWithRealEtcds() throws Exception {
    Assumptions.assumeTrue(TlsEtcdProcess.available(), "/usr/bin/etcd is missing: apt-get install -y etcd-server");
    a = keep(MockCluster.install("cluster-a", 1, Map.of()));
    b = keep(MockCluster.install("cluster-b", 2, Map.of()));
    etcdA = keep(TlsEtcdProcess.start("cluster-a", a.etcdServerFiles(dir.resolve("etcd-a")), dir));
    etcdB = keep(TlsEtcdProcess.start("cluster-b", b.etcdServerFiles(dir.resolve("etcd-b")), dir));
    kubeconfig = MockCluster.kubeconfig(dir.resolve("kubeconfig"), a, b);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable resource : resources.reversed()) {
      resource.close();
    }
  }

  @Test
  void eachClustersSecretEntryReadsTheOtherClustersEtcdThroughItsHostAlias() throws Exception {
    operatorWrites(a, etcdA, 1, true);
    operatorWrites(b, etcdB, 2, true);

    connect();

    assertThat(readThroughSecret(a, "cluster-b", KeyLayout.clusterConfigKey("cluster-b"))).isNotNull();
    assertThat(ClusterConfig.parseFrom(readThroughSecret(a, "cluster-b", KeyLayout.clusterConfigKey("cluster-b")).getValue().getBytes()).getId())
        .isEqualTo(2);
    assertThat(ClusterConfig.parseFrom(readThroughSecret(b, "cluster-a", KeyLayout.clusterConfigKey("cluster-a")).getValue().getBytes()).getId())
        .isEqualTo(1);
  }

  @Test
  void statusReportsEveryDirectionReadyOnceTheRemoteOperatorsHaveSynced() throws Exception {
    operatorWrites(a, etcdA, 1, true);
    operatorWrites(b, etcdB, 2, true);
    connect();

    CliRun status = meshwork("clustermesh", "status", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--context", "cluster-b");

    assertThat(status.exitCode()).as(status.out() + status.err()).isZero();
    List<String> lines = status.out().lines().toList();
    assertThat(lines.getFirst()).startsWith("CLUSTER").contains("REMOTE", "ENDPOINT", "REACHABLE", "REMOTE ID", "HEARTBEAT", "SYNCED", "READY");
    assertThat(lines.get(1)).matches("cluster-a +cluster-b +https://cluster-b\\.mesh\\.meshwork\\.dev:" + etcdB.clientPort()
        + " +yes +2 +\\d+s ago +4/4 +yes *");
    assertThat(lines.get(2)).matches("cluster-b +cluster-a +https://cluster-a\\.mesh\\.meshwork\\.dev:" + etcdA.clientPort()
        + " +yes +1 +\\d+s ago +4/4 +yes *");
  }

  @Test
  void statusNamesWhatIsMissingAndExitsOne() throws Exception {
    operatorWrites(a, etcdA, 1, true);
    operatorWrites(b, etcdB, 2, false); // cluster-b's operator has not finished its first sync
    connect();
    etcdA.close(); // and cluster-a's etcd is down

    CliRun status = meshwork("clustermesh", "status", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--context", "cluster-b");

    assertThat(status.exitCode()).isEqualTo(1);
    assertThat(status.out()).containsPattern("cluster-a +cluster-b .* yes +2 +\\d+s ago +0/4 +no +waiting for synced canaries \\(0/4\\)")
        .containsPattern("cluster-b +cluster-a .* no +- +- +0/4 +no +reading meshwork/v1/cluster-config/cluster-a: ");
    assertThat(status.err()).startsWith("meshwork: clustermesh not ready: cluster-a -> cluster-b (waiting for synced canaries (0/4)), cluster-b -> cluster-a (");
  }

  @Test
  void statusReportsAClusterThatIsNotConnectedToAnotherGivenOne() throws Exception {
    CliRun status = meshwork("clustermesh", "status", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--context", "cluster-b");

    assertThat(status.exitCode()).isEqualTo(1);
    assertThat(status.out()).containsPattern(
        "cluster-a +cluster-b +- +- +- +- +- +no +not configured: meshwork clustermesh connect --context cluster-a --destination-context cluster-b");
  }

  private void connect() {
    CliRun run = meshwork("clustermesh", "connect", "--kubeconfig", kubeconfig.toString(), "--context", "cluster-a", "--destination-context", "cluster-b",
        "--source-endpoint", "127.0.0.1:" + etcdA.clientPort(), "--destination-endpoint", "127.0.0.1:" + etcdB.clientPort());
    assertThat(run.exitCode()).as(run.err()).isZero();
  }

  /** Reads {@code key} of {@code remote}'s etcd with {@code cluster}'s Secret entry, as its agents would. */
  private KeyValue readThroughSecret(MockCluster cluster, String remote, String key) throws Exception {
    Path entry = Files.createDirectories(dir.resolve("read-" + cluster.name() + "-" + remote));
    RemoteClusterConfig config = MeshStatus.materialize(entry, remote, cluster.secretData(MeshNames.SECRET_NAME));
    Map<String, String> aliases = Map.of(MeshNames.etcdHost(remote),
        cluster.agents().getSpec().getTemplate().getSpec().getHostAliases().getFirst().getIp());
    try (Client client = MeshStatus.client(config, aliases)) {
      List<KeyValue> kvs = client.getKVClient().get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
      return kvs.isEmpty() ? null : kvs.getFirst();
    }
  }

  // What the cluster's operator writes with its own client certificate (Secret meshwork-etcd-client-operator).
  private void operatorWrites(MockCluster cluster, TlsEtcdProcess etcd, int id, boolean synced) throws Exception {
    Path files = cluster.operatorClientFiles(dir.resolve("operator-" + cluster.name()));
    Path config = files.resolve("config").resolve(cluster.name());
    Files.createDirectories(config.getParent());
    Files.writeString(config, String.join("\n", "endpoints:", "- " + etcd.endpoint(), "trusted-ca-file: " + files.resolve("ca.crt"),
        "cert-file: " + files.resolve("tls.crt"), "key-file: " + files.resolve("tls.key"), ""));
    String name = cluster.name();
    try (Client client = EtcdClients.build(RemoteClusterConfig.load(config))) {
      Awaitility.await("etcd of " + name + " accepts the operator's certificate").atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
        put(client, KeyLayout.clusterConfigKey(name), Codecs.CLUSTER_CONFIG.encode(ClusterConfig.newBuilder().setName(name).setId(id).build()));
        return true;
      });
      put(client, KeyLayout.heartbeatKey(name),
          Codecs.HEARTBEAT.encode(Heartbeat.newBuilder().setTimestampMillis(System.currentTimeMillis()).setWriter("test").build()));
      if (synced) {
        for (Kind kind : Kind.values()) {
          put(client, KeyLayout.state().syncedKey(name, kind), Codecs.SYNCED_CANARY.encode(SyncedCanary.newBuilder()
              .setCluster(name).setKind(kind.segment()).setTimestampMillis(System.currentTimeMillis()).build()));
        }
      }
    }
  }

  private static void put(Client client, String key, byte[] value) throws Exception {
    client.getKVClient().put(bytes(key), ByteSequence.from(value)).get(5, TimeUnit.SECONDS);
  }

  private <T extends AutoCloseable> T keep(T resource) {
    resources.add(resource);
    return resource;
  }

  private static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }
}
