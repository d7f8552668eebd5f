package dev.meshwork.cli.clustermesh;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `meshwork clustermesh ca`: one cluster's etcd CA, server certificate and local client certificate. */
class CaCommandTest {

  @TempDir Path dir;

  @Test
  void createsASelfSignedCaForTheClustersEtcd() throws Exception {
    CliRun run = meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString());

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).startsWith("Created the etcd CA of k8s-test-cluster in " + dir);
    X509Certificate ca = ClusterMeshConnectTest.certificate(dir.resolve("ca.crt"));
    ca.verify(ca.getPublicKey());
    assertThat(ca.getBasicConstraints()).isZero();
    assertThat(ca.getSubjectX500Principal().getName()).isEqualTo("CN=meshwork etcd CA,OU=k8s-test-cluster,O=meshwork");
    assertThat(ca.getKeyUsage()[5]).as("keyCertSign").isTrue();
    assertThat(Duration.between(ca.getNotBefore().toInstant(), ca.getNotAfter().toInstant()).toDays()).isEqualTo(3650);
  }

  @Test
  void serverCertificateNamesTheMeshHostLoopbackAndEveryExtraSan() throws Exception {
    CliRun run = meshwork("clustermesh", "ca", "--cluster", "k8s-shared-cluster", "--out", dir.toString(),
        "--san", "198.18.1.10", "--san", "etcd.shared.example", "--san", "fd00::10");

    assertThat(run.exitCode()).as(run.err()).isZero();
    X509Certificate server = ClusterMeshConnectTest.certificate(dir.resolve("etcd-server.crt"));
    server.verify(ClusterMeshConnectTest.certificate(dir.resolve("ca.crt")).getPublicKey());
    assertThat(subjectAltNames(server))
        .containsExactlyInAnyOrder("k8s-shared-cluster.mesh.meshwork.dev", "localhost", "127.0.0.1", "198.18.1.10",
            "etcd.shared.example", "fd00:0:0:0:0:0:0:10");
    assertThat(server.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(Duration.between(server.getNotBefore().toInstant(), server.getNotAfter().toInstant()).toDays()).isEqualTo(365);
    assertThat(ClusterMeshConnectTest.keyMatches(server,
        dev.meshwork.kvstore.etcd.PemFiles.privateKey("key", dir.resolve("etcd-server.key")))).isTrue();
  }

  @Test
  void localClientCertificateIsTheReadWriteUserOfTheClustersOwnEtcd() throws Exception {
    meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString());

    X509Certificate client = ClusterMeshConnectTest.certificate(dir.resolve("etcd-local-client.crt"));
    client.verify(ClusterMeshConnectTest.certificate(dir.resolve("ca.crt")).getPublicKey());
    assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=meshwork-local,OU=k8s-test-cluster,O=meshwork");
    assertThat(client.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
  }

  @Test
  void runningAgainKeepsTheCaAndReissuesTheServerCertificateWithNewSans() throws Exception {
    meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString());
    byte[] caBefore = Files.readAllBytes(dir.resolve("ca.crt"));
    byte[] keyBefore = Files.readAllBytes(dir.resolve("ca.key"));

    CliRun again = meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString(), "--san", "198.18.0.10");

    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.out()).startsWith("Using the existing etcd CA of k8s-test-cluster in " + dir);
    assertThat(Files.readAllBytes(dir.resolve("ca.crt"))).isEqualTo(caBefore);
    assertThat(Files.readAllBytes(dir.resolve("ca.key"))).isEqualTo(keyBefore);
    X509Certificate server = ClusterMeshConnectTest.certificate(dir.resolve("etcd-server.crt"));
    assertThat(subjectAltNames(server)).contains("198.18.0.10");
  }

  @Test
  void certificatesNeverOutliveTheirCa() throws Exception {
    CliRun run = meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString(),
        "--ca-validity-days", "30", "--validity-days", "365");

    assertThat(run.exitCode()).as(run.err()).isZero();
    X509Certificate ca = ClusterMeshConnectTest.certificate(dir.resolve("ca.crt"));
    X509Certificate server = ClusterMeshConnectTest.certificate(dir.resolve("etcd-server.crt"));
    assertThat(server.getNotAfter()).isEqualTo(ca.getNotAfter());
  }

  @Test
  void anExistingCaOfAnotherClusterIsNotReused() {
    meshwork("clustermesh", "ca", "--cluster", "k8s-test-cluster", "--out", dir.toString());

    CliRun run = meshwork("clustermesh", "ca", "--cluster", "k8s-shared-cluster", "--out", dir.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: --out " + dir + ": the CA in " + dir
        + " belongs to cluster k8s-test-cluster, not k8s-shared-cluster\n");
  }

  @Test
  void badArgumentsAreNamed() {
    List<List<String>> cases = List.of(
        List.of("--cluster", "-bad-", "--out", dir.toString()),
        List.of("--cluster", "k8s-test-cluster", "--out", dir.toString(), "--san", "not a name"),
        List.of("--cluster", "k8s-test-cluster", "--out", dir.toString(), "--validity-days", "0"),
        List.of("--cluster", "k8s-test-cluster"));
    List<String> named = List.of("'--cluster'", "'--san'", "'--validity-days'", "Missing required option: '--out");
    for (int i = 0; i < cases.size(); i++) {
      String[] args = java.util.stream.Stream.concat(java.util.stream.Stream.of("clustermesh", "ca"), cases.get(i).stream())
          .toArray(String[]::new);
      CliRun run = meshwork(args);
      assertThat(run.exitCode()).as(String.join(" ", args)).isEqualTo(2);
      assertThat(run.err()).as(String.join(" ", args)).contains(Objects.requireNonNull(named.get(i)));
    }
    assertThat(dir).isEmptyDirectory();
  }

  private static List<String> subjectAltNames(X509Certificate certificate) throws Exception {
    return certificate.getSubjectAlternativeNames().stream().map(name -> String.valueOf(name.get(1))).toList();
  }
}
