package dev.meshwork.cli.clustermesh;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The files of `ca` and `connect` used for real: two etcds serve TLS with the generated server
 * certificates and require client certificates; the generated kvstore configs, loaded by the
 * kvstore module, reach the other cluster's etcd, and a certificate never opens the wrong etcd.
 */
class ClusterMeshConnectEtcdIT {

  private static final String KEY = "meshwork/v1/cluster-config/";

  @TempDir Path dir;
  private TlsEtcdProcess etcdA;
  private TlsEtcdProcess etcdB;

  @BeforeEach
  void startEtcds() throws Exception {
    Assumptions.assumeTrue(TlsEtcdProcess.available(), "/usr/bin/etcd is missing: apt-get install -y etcd-server");
    for (String cluster : List.of("cluster-a", "cluster-b")) {
      CliRun ca = meshwork("clustermesh", "ca", "--cluster", cluster, "--out", dir.resolve("ca").resolve(cluster).toString());
      assertThat(ca.exitCode()).as(ca.err()).isZero();
    }
    etcdA = TlsEtcdProcess.start("cluster-a", dir.resolve("ca/cluster-a"), dir);
    etcdB = TlsEtcdProcess.start("cluster-b", dir.resolve("ca/cluster-b"), dir);
    writeOwnClusterConfig("cluster-a", etcdA);
    writeOwnClusterConfig("cluster-b", etcdB);
  }

  @AfterEach
  void stopEtcds() throws Exception {
    if (etcdA != null) {
      etcdA.close();
    }
    if (etcdB != null) {
      etcdB.close();
    }
  }

  @Test
  void eachClustersGeneratedConfigReadsTheOtherClustersEtcd() throws Exception {
    connect();

    try (Client aReadsB = EtcdClients.build(RemoteClusterConfig.load(dir.resolve("mesh/cluster-a/clustermesh/cluster-b")));
        Client bReadsA = EtcdClients.build(RemoteClusterConfig.load(dir.resolve("mesh/cluster-b/clustermesh/cluster-a")))) {
      assertThat(get(aReadsB, KEY + "cluster-b")).isEqualTo("written by cluster-b's operator");
      assertThat(get(bReadsA, KEY + "cluster-a")).isEqualTo("written by cluster-a's operator");
    }
  }

  @Test
  void aClientCertificateIssuedForOneEtcdIsRefusedByTheOther() throws Exception {
    connect();
    // cluster-a's certificate for cluster-b's etcd, presented to cluster-a's own etcd.
    Path mesh = dir.resolve("mesh/cluster-a/clustermesh");
    Path wrong = dir.resolve("wrong");
    Files.createDirectories(wrong);
    Files.writeString(wrong.resolve("cluster-a"), String.join("\n",
        "endpoints:",
        "- " + etcdA.endpoint(),
        "trusted-ca-file: " + dir.resolve("ca/cluster-a/ca.crt"),
        "cert-file: " + mesh.resolve("cluster-b.etcd-client.crt"),
        "key-file: " + mesh.resolve("cluster-b.etcd-client.key"),
        ""));

    try (Client client = EtcdClients.build(RemoteClusterConfig.load(wrong.resolve("cluster-a")))) {
      assertThatThrownBy(() -> client.getKVClient().get(bytes(KEY + "cluster-a")).get(3, TimeUnit.SECONDS))
          .isInstanceOf(Exception.class);
    }
    // The refusal is the TLS handshake's, seen by etcd, not some other failure. (With TLS 1.3 the
    // client does not even offer a certificate that the server's CA did not issue.)
    Awaitility.await().atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(etcdA.logText()).contains("rejected connection")
            .containsAnyOf("certificate signed by unknown authority", "client didn't provide a certificate"));
  }

  private void connect() {
    CliRun run = meshwork("clustermesh", "connect", "--out", dir.resolve("mesh").toString(),
        "--cluster", "cluster-a=" + dir.resolve("ca/cluster-a") + "=" + etcdA.endpoint(),
        "--cluster", "cluster-b=" + dir.resolve("ca/cluster-b") + "=" + etcdB.endpoint());
    assertThat(run.exitCode()).as(run.err()).isZero();
  }

  // The cluster's own operator writes with the local client certificate from `ca`.
  private void writeOwnClusterConfig(String cluster, TlsEtcdProcess etcd) throws Exception {
    Path config = dir.resolve("local").resolve(cluster);
    Files.createDirectories(config.getParent());
    Path ca = dir.resolve("ca").resolve(cluster);
    Files.writeString(config, String.join("\n",
        "endpoints:",
        "- " + etcd.endpoint(),
        "trusted-ca-file: " + ca.resolve(CaDirectory.CA_CERT),
        "cert-file: " + ca.resolve(CaDirectory.LOCAL_CLIENT_CERT),
        "key-file: " + ca.resolve(CaDirectory.LOCAL_CLIENT_KEY),
        ""));
    try (Client client = EtcdClients.build(RemoteClusterConfig.load(config))) {
      Awaitility.await("etcd of " + cluster + " accepts the local client certificate")
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> {
            assertThat(etcd.isAlive()).as(etcd.logText()).isTrue();
            client.getKVClient()
                .put(bytes(KEY + cluster), bytes("written by " + cluster + "'s operator"))
                .get(5, TimeUnit.SECONDS);
            return true;
          });
    }
  }

  private static String get(Client client, String key) throws Exception {
    List<KeyValue> kvs = client.getKVClient().get(bytes(key)).get(8, TimeUnit.SECONDS).getKvs();
    return kvs.isEmpty() ? null : kvs.getFirst().getValue().toString(StandardCharsets.UTF_8);
  }

  private static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }
}
