package dev.meshwork.cli.clustermesh;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.kvstore.etcd.PemFiles;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/** `meshwork clustermesh connect` for three clusters, from CAs made by `meshwork clustermesh ca`. */
class ClusterMeshConnectTest {

  static final List<String> CLUSTERS = List.of("k8s-test-cluster", "k8s-shared-cluster", "k8s-prod-cluster");
  static final Map<String, String> ADDRESSES =
      Map.of("k8s-test-cluster", "198.18.0.10", "k8s-shared-cluster", "198.18.1.10", "k8s-prod-cluster", "198.18.2.10:32379");

  // The CAs are made once: no test changes them, and key generation is the slow part.
  @TempDir static Path caRoot;
  @TempDir Path dir;
  Path out;

  @BeforeAll
  static void createCas() {
    for (String cluster : CLUSTERS) {
      CliRun ca = meshwork("clustermesh", "ca", "--cluster", cluster, "--out", caDir(cluster).toString());
      assertThat(ca.exitCode()).as(ca.err()).isZero();
    }
  }

  @BeforeEach
  void outputDirectory() {
    out = dir.resolve("mesh");
  }

  @Test
  void connectWritesASecretAHostAliasFileAndAConfigDirectoryPerCluster() {
    CliRun run = connectAll();

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("Wrote the clustermesh files of 3 clusters to " + out);
    for (String cluster : CLUSTERS) {
      Set<String> expected = Stream.concat(
              Stream.of("meshwork-clustermesh.yaml", "host-aliases.yaml"),
              remotesOf(cluster).stream().flatMap(r -> Stream.of(
                  "clustermesh/" + r, "clustermesh/" + r + ".etcd-client-ca.crt",
                  "clustermesh/" + r + ".etcd-client.crt", "clustermesh/" + r + ".etcd-client.key")))
          .collect(Collectors.toSet());
      assertThat(filesUnder(out.resolve(cluster))).as(cluster).isEqualTo(expected);
    }
  }

  @Test
  void secretHasOneKvstoreConfigPerRemotePointingAtTheMountPathPlusItsThreePemFiles() throws Exception {
    connectAll();

    Map<String, Object> secret = yaml(out.resolve("k8s-test-cluster/meshwork-clustermesh.yaml"));
    assertThat(secret).containsEntry("apiVersion", "v1").containsEntry("kind", "Secret").containsEntry("type", "Opaque");
    assertThat(map(secret.get("metadata"))).containsEntry("name", "meshwork-clustermesh").doesNotContainKey("namespace");
    Map<String, Object> data = map(secret.get("data"));
    assertThat(data.keySet()).containsExactlyInAnyOrder(
        "k8s-shared-cluster", "k8s-shared-cluster.etcd-client-ca.crt", "k8s-shared-cluster.etcd-client.crt", "k8s-shared-cluster.etcd-client.key",
        "k8s-prod-cluster", "k8s-prod-cluster.etcd-client-ca.crt", "k8s-prod-cluster.etcd-client.crt", "k8s-prod-cluster.etcd-client.key");

    Map<String, Object> shared = new Yaml().load(decode(data.get("k8s-shared-cluster")));
    assertThat(shared).containsExactly(
        Map.entry("endpoints", List.of("https://k8s-shared-cluster.mesh.meshwork.dev:2379")),
        Map.entry("trusted-ca-file", "/var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client-ca.crt"),
        Map.entry("cert-file", "/var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client.crt"),
        Map.entry("key-file", "/var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client.key"));
    Map<String, Object> prod = new Yaml().load(decode(data.get("k8s-prod-cluster")));
    assertThat(prod.get("endpoints")).isEqualTo(List.of("https://k8s-prod-cluster.mesh.meshwork.dev:32379"));

    // The Secret and the directory form carry the same certificates and keys.
    for (String remote : List.of("k8s-shared-cluster", "k8s-prod-cluster")) {
      for (String suffix : List.of(".etcd-client-ca.crt", ".etcd-client.crt", ".etcd-client.key")) {
        assertThat(decode(data.get(remote + suffix)))
            .isEqualTo(Files.readString(out.resolve("k8s-test-cluster/clustermesh/" + remote + suffix)));
      }
    }
  }

  @Test
  void directoryFormLoadsWithTheKvstoreRemoteClusterConfig() {
    connectAll();

    for (String cluster : CLUSTERS) {
      for (String remote : remotesOf(cluster)) {
        Path configDir = out.resolve(cluster).resolve("clustermesh").toAbsolutePath();
        RemoteClusterConfig config = RemoteClusterConfig.load(configDir.resolve(remote));

        assertThat(config.cluster()).isEqualTo(remote);
        assertThat(config.endpoints()).containsExactly(URI.create(
            "https://" + remote + ".mesh.meshwork.dev:" + (remote.equals("k8s-prod-cluster") ? 32379 : 2379)));
        assertThat(config.tls()).hasValueSatisfying(tls -> {
          assertThat(tls.trustedCaFile()).isEqualTo(configDir.resolve(remote + ".etcd-client-ca.crt"));
          assertThat(tls.certFile()).contains(configDir.resolve(remote + ".etcd-client.crt"));
          assertThat(tls.keyFile()).contains(configDir.resolve(remote + ".etcd-client.key"));
        });
      }
    }
  }

  @Test
  void everyClientCertificateChainsToTheRemoteClustersCaAndNoOther() throws Exception {
    connectAll();

    for (String cluster : CLUSTERS) {
      for (String remote : remotesOf(cluster)) {
        Path configDir = out.resolve(cluster).resolve("clustermesh");
        X509Certificate client = certificate(configDir.resolve(remote + ".etcd-client.crt"));
        X509Certificate remoteCa = certificate(caDir(remote).resolve("ca.crt"));

        client.verify(remoteCa.getPublicKey());
        client.checkValidity();
        assertThat(client.getIssuerX500Principal()).isEqualTo(remoteCa.getSubjectX500Principal());
        assertThat(certificate(configDir.resolve(remote + ".etcd-client-ca.crt"))).isEqualTo(remoteCa);
        assertThat(client.getSubjectX500Principal().getName()).isEqualTo("CN=remote,OU=" + cluster + ",O=meshwork");
        assertThat(client.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2"); // clientAuth only
        assertThat(client.getBasicConstraints()).isEqualTo(-1);
        assertThat(keyMatches(client, PemFiles.privateKey("key", configDir.resolve(remote + ".etcd-client.key")))).isTrue();
        for (String other : CLUSTERS) {
          if (!other.equals(remote)) {
            X509Certificate otherCa = certificate(caDir(other).resolve("ca.crt"));
            assertThatThrownBy(() -> client.verify(otherCa.getPublicKey()))
                .as("%s's certificate for %s must not verify with %s's CA", cluster, remote, other)
                .isInstanceOf(SignatureException.class);
          }
        }
      }
    }
  }

  @Test
  void hostAliasesMapEachRemoteMeshNameToItsAddress() {
    connectAll();

    Map<String, Object> values = yaml(out.resolve("k8s-shared-cluster/host-aliases.yaml"));
    assertThat(values).isEqualTo(Map.of("clustermesh", Map.of("hostAliases", List.of(
        Map.of("ip", "198.18.0.10", "hostnames", List.of("k8s-test-cluster.mesh.meshwork.dev")),
        Map.of("ip", "198.18.2.10", "hostnames", List.of("k8s-prod-cluster.mesh.meshwork.dev"))))));
  }

  @Test
  void anHttpsUrlAddressIsUsedAsTheEndpointAndNeedsNoHostAlias() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster") + "=https://etcd.shared.example:2379");

    assertThat(run.exitCode()).as(run.err()).isZero();
    Path config = out.resolve("k8s-test-cluster/clustermesh/k8s-shared-cluster");
    assertThat(RemoteClusterConfig.load(config).endpoints()).containsExactly(URI.create("https://etcd.shared.example:2379"));
    assertThat(yaml(out.resolve("k8s-test-cluster/host-aliases.yaml")))
        .isEqualTo(Map.of("clustermesh", Map.of("hostAliases", List.of())));
    // Without an address the mesh name is expected to resolve by DNS.
    assertThat(RemoteClusterConfig.load(out.resolve("k8s-shared-cluster/clustermesh/k8s-test-cluster")).endpoints())
        .containsExactly(URI.create("https://k8s-test-cluster.mesh.meshwork.dev:2379"));
  }

  @Test
  void createMissingCaMakesTheWholeMeshInOneCommand() throws Exception {
    Path cas = dir.resolve("new-cas");

    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(), "--create-missing-ca",
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-new-cluster=" + cas.resolve("k8s-new-cluster") + "=https://198.18.3.10:2379",
        "--cluster", "k8s-edge-cluster=" + cas.resolve("k8s-edge-cluster") + "=198.18.4.10");

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).contains("Created the etcd CA of k8s-new-cluster in " + cas.resolve("k8s-new-cluster"))
        .contains("Created the etcd CA of k8s-edge-cluster in " + cas.resolve("k8s-edge-cluster"))
        .doesNotContain("Created the etcd CA of k8s-test-cluster");
    // The URL's IP became a SAN of the new etcd's server certificate, so agents accept it.
    X509Certificate server = certificate(cas.resolve("k8s-new-cluster/etcd-server.crt"));
    assertThat(server.getSubjectAlternativeNames()).anySatisfy(name -> assertThat(name.get(1)).isEqualTo("198.18.3.10"));
    X509Certificate client = certificate(out.resolve("k8s-test-cluster/clustermesh/k8s-new-cluster.etcd-client.crt"));
    client.verify(certificate(cas.resolve("k8s-new-cluster/ca.crt")).getPublicKey());
    assertThat(RemoteClusterConfig.load(out.resolve("k8s-new-cluster/clustermesh/k8s-edge-cluster")).endpoints())
        .containsExactly(URI.create("https://k8s-edge-cluster.mesh.meshwork.dev:2379"));
  }

  @Test
  void anEndpointTheEtcdServerCertificateDoesNotNameIsWarnedAbout() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster") + "=https://127.0.0.1:2379",
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster") + "=https://etcd.shared.example:2379");

    assertThat(run.exitCode()).isZero();
    // 127.0.0.1 is always in the server certificate; etcd.shared.example was never given as --san.
    assertThat(run.err()).isEqualTo("meshwork: warning: --cluster k8s-shared-cluster=" + caDir("k8s-shared-cluster")
        + ": the etcd server certificate " + caDir("k8s-shared-cluster").resolve("etcd-server.crt")
        + " does not name etcd.shared.example; add it with: meshwork clustermesh ca --cluster k8s-shared-cluster --out "
        + caDir("k8s-shared-cluster") + " --san etcd.shared.example\n");
  }

  @Test
  void namespaceAndMountPathOptionsShapeTheSecret() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(), "--namespace", "kube-system",
        "--mount-path", "/etc/meshwork/mesh",
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster"));

    assertThat(run.exitCode()).as(run.err()).isZero();
    Map<String, Object> secret = yaml(out.resolve("k8s-test-cluster/meshwork-clustermesh.yaml"));
    assertThat(map(secret.get("metadata"))).containsEntry("namespace", "kube-system");
    Map<String, Object> config = new Yaml().load(decode(map(secret.get("data")).get("k8s-shared-cluster")));
    assertThat(config).containsEntry("cert-file", "/etc/meshwork/mesh/k8s-shared-cluster.etcd-client.crt");
  }

  @Test
  void onlyWritesTheNamedClustersFiles() {
    CliRun run = meshwork(connectArgs("--only", "k8s-prod-cluster"));

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(out.resolve("k8s-prod-cluster/meshwork-clustermesh.yaml")).exists();
    assertThat(out.resolve("k8s-test-cluster")).doesNotExist();
    assertThat(out.resolve("k8s-shared-cluster")).doesNotExist();
  }

  @Test
  void aClusterDroppedFromTheMeshDisappearsFromTheConfigDirectoryOnTheNextRun() {
    connectAll();
    assertThat(out.resolve("k8s-test-cluster/clustermesh/k8s-prod-cluster")).exists();

    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster"));

    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(filesUnder(out.resolve("k8s-test-cluster/clustermesh"))).containsExactlyInAnyOrder(
        "k8s-shared-cluster", "k8s-shared-cluster.etcd-client-ca.crt", "k8s-shared-cluster.etcd-client.crt", "k8s-shared-cluster.etcd-client.key");
    assertThat(run.out()).contains("removed " + out.resolve("k8s-test-cluster/clustermesh/k8s-prod-cluster"));
  }

  @Test
  void privateKeysAreReadableByTheOwnerOnly() throws Exception {
    connectAll();

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        out.resolve("k8s-test-cluster/clustermesh/k8s-shared-cluster.etcd-client.key")))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        out.resolve("k8s-test-cluster/meshwork-clustermesh.yaml")))).isEqualTo("rw-------");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(caDir("k8s-test-cluster").resolve("ca.key"))))
        .isEqualTo("rw-------");
  }

  // ---- bad input --------------------------------------------------------------------------------

  @Test
  void anInvalidClusterNameIsRejectedNamingTheOptionAndTheRule() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "K8s_Test=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--cluster").contains("\"K8s_Test\" is not a cluster name")
        .contains("character 'K' at position 1 is not allowed");
    assertThat(out).doesNotExist();
  }

  @Test
  void aMissingCaDirectoryIsNamedWithTheCommandThatCreatesIt() {
    Path missing = dir.resolve("k8s-new-cluster");

    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-new-cluster=" + missing);

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: --cluster k8s-new-cluster=" + missing + ": CA directory " + missing
        + " does not exist; create it with: meshwork clustermesh ca --cluster k8s-new-cluster --out " + missing
        + " (or let connect create it: --create-missing-ca)\n");
    assertThat(out).doesNotExist();
  }

  @Test
  void aCaDirectoryOfAnotherClusterIsRefused() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-shared-cluster"),
        "--cluster", "k8s-prod-cluster=" + caDir("k8s-prod-cluster"));

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("--cluster k8s-test-cluster=" + caDir("k8s-shared-cluster"))
        .contains("belongs to cluster k8s-shared-cluster, not k8s-test-cluster");
  }

  @Test
  void anUnknownClusterInOnlyIsRejectedNamingTheKnownOnes() {
    CliRun run = meshwork(connectArgs("--only", "k8s-staging-cluster"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Invalid value for option '--only': unknown cluster k8s-staging-cluster")
        .contains("known: k8s-test-cluster, k8s-shared-cluster, k8s-prod-cluster");
  }

  @Test
  void oneClusterAloneIsNotAMesh() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(), "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("connect needs at least two --cluster NAME=CA_DIR[=ADDRESS] options, got 1");
  }

  @Test
  void aClusterGivenTwiceIsRejected() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("cluster k8s-test-cluster is given more than once");
  }

  @Test
  void aMalformedAddressIsRejectedSayingWhatIsExpected() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster=" + caDir("k8s-test-cluster") + "=etcd.example.com",
        "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster") + "=198.18.1.10:99999");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--cluster")
        .contains("\"etcd.example.com\" is neither an IP address (with an optional :port) nor an https:// URL");
  }

  @Test
  void aClusterArgumentWithoutCaDirectoryShowsTheExpectedForm() {
    CliRun run = meshwork("clustermesh", "connect", "--out", out.toString(),
        "--cluster", "k8s-test-cluster", "--cluster", "k8s-shared-cluster=" + caDir("k8s-shared-cluster"));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("\"k8s-test-cluster\" is not NAME=CA_DIR[=ADDRESS]");
  }

  // ---- helpers ------------------------------------------------------------------------------------

  private static Path caDir(String cluster) {
    return caRoot.resolve(cluster);
  }

  private CliRun connectAll() {
    return meshwork(connectArgs());
  }

  private String[] connectArgs(String... extra) {
    Stream<String> clusters = CLUSTERS.stream()
        .flatMap(c -> Stream.of("--cluster", c + "=" + caDir(c) + "=" + ADDRESSES.get(c)));
    return Stream.of(Stream.of("clustermesh", "connect", "--out", out.toString()), clusters, Stream.of(extra))
        .flatMap(s -> s).toArray(String[]::new);
  }

  private static List<String> remotesOf(String cluster) {
    return CLUSTERS.stream().filter(c -> !c.equals(cluster)).toList();
  }

  private static Set<String> filesUnder(Path root) {
    try (Stream<Path> files = Files.walk(root)) {
      return files.filter(Files::isRegularFile).map(f -> root.relativize(f).toString()).collect(Collectors.toSet());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static Map<String, Object> yaml(Path file) {
    try {
      return new Yaml().load(Files.readString(file));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object value) {
    return (Map<String, Object>) value;
  }

  private static String decode(Object base64) {
    return new String(Base64.getDecoder().decode((String) base64), StandardCharsets.UTF_8);
  }

  static X509Certificate certificate(Path file) throws Exception {
    return PemFiles.certificates("certificate", file).getFirst();
  }

  static boolean keyMatches(X509Certificate certificate, PrivateKey key) throws Exception {
    byte[] probe = "probe".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(probe);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(certificate.getPublicKey());
    verifier.update(probe);
    return verifier.verify(signature);
  }
}
