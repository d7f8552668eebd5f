package dev.meshwork.kvstore.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RemoteClusterConfigTest {
  @TempDir Path dir;

  /** The blog's clustermesh secret, its files copied into {@code dir}. */
  @BeforeEach
  void copyTheBlogsSecret() throws IOException {
    for (String name :
        List.of(
            "k8s-shared-cluster",
            "k8s-shared-cluster.etcd-client-ca.crt",
            "k8s-shared-cluster.etcd-client.crt",
            "k8s-shared-cluster.etcd-client.key")) {
      try (InputStream in = getClass().getResourceAsStream("/blog/" + name)) {
        Files.copy(in, dir.resolve(name));
      }
    }
    Path config = dir.resolve("k8s-shared-cluster");
    Files.writeString(
        config, Files.readString(config).replace("/var/lib/cilium/clustermesh/", dir + "/"));
  }

  private Path write(String fileName, String yaml) throws IOException {
    Path file = dir.resolve(fileName);
    Files.writeString(file, yaml);
    return file;
  }

  @Test
  void loadsTheBlogsClustermeshSecretEntry() {
    RemoteClusterConfig config = RemoteClusterConfig.load(dir.resolve("k8s-shared-cluster"));
    assertThat(config.cluster()).isEqualTo("k8s-shared-cluster");
    assertThat(config.endpoints())
        .containsExactly(URI.create("https://k8s-shared-cluster.mesh.cilium.io:2379"));
    TlsSettings tls = config.tls().orElseThrow();
    assertThat(tls.trustedCaFile()).isEqualTo(dir.resolve("k8s-shared-cluster.etcd-client-ca.crt"));
    assertThat(tls.certFile()).hasValue(dir.resolve("k8s-shared-cluster.etcd-client.crt"));
    assertThat(tls.keyFile()).hasValue(dir.resolve("k8s-shared-cluster.etcd-client.key"));
  }

  @Test
  void buildsATlsContextFromTheBlogsPkcs1RsaKey() {
    RemoteClusterConfig config = RemoteClusterConfig.load(dir.resolve("k8s-shared-cluster"));
    assertThat(EtcdClients.sslContext(config.tls().orElseThrow(), config.source()).isClient()).isTrue();
  }

  @Test
  void takesTheClusterNameFromTheFileNameWithoutYamlExtension() throws IOException {
    Path file = write("c2.yaml", "endpoints: [http://127.0.0.1:2379]\n");
    RemoteClusterConfig config = RemoteClusterConfig.load(file);
    assertThat(config.cluster()).isEqualTo("c2");
    assertThat(config.tls()).isEmpty();
  }

  @Test
  void resolvesRelativeCertificatePathsAgainstTheFilesDirectory() throws IOException {
    Path file =
        write(
            "c3",
            """
            endpoints:
            - https://127.0.0.1:2379
            trusted-ca-file: k8s-shared-cluster.etcd-client-ca.crt
            cert-file: k8s-shared-cluster.etcd-client.crt
            key-file: k8s-shared-cluster.etcd-client.key
            """);
    assertThat(RemoteClusterConfig.load(file).tls().orElseThrow().trustedCaFile())
        .isEqualTo(dir.resolve("k8s-shared-cluster.etcd-client-ca.crt"));
  }

  @Test
  void aMissingEndpointsSettingIsNamed() throws IOException {
    Path file = write("c1", "trusted-ca-file: k8s-shared-cluster.etcd-client-ca.crt\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("'endpoints' is missing");
  }

  @Test
  void anEmptyEndpointsListIsNamed() throws IOException {
    Path file = write("c1", "endpoints: []\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file)).hasMessageContaining("'endpoints' is empty");
  }

  @Test
  void aBadUrlIsNamed() throws IOException {
    Path file = write("c1", "endpoints:\n- k8s-shared-cluster.mesh.cilium.io\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("'endpoints' entry 'k8s-shared-cluster.mesh.cilium.io'")
        .hasMessageContaining("https://host:port");
    Path noPort = write("c2", "endpoints:\n- https://etcd.example\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(noPort)).hasMessageContaining("'endpoints' entry 'https://etcd.example'");
  }

  @Test
  void aMissingCertificateFileIsNamed() throws IOException {
    Path file =
        write(
            "c1",
            """
            endpoints: [https://127.0.0.1:2379]
            trusted-ca-file: k8s-shared-cluster.etcd-client-ca.crt
            cert-file: missing.crt
            key-file: k8s-shared-cluster.etcd-client.key
            """);
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("'cert-file' file " + dir.resolve("missing.crt") + " does not exist");
  }

  @Test
  void certFileWithoutKeyFileIsNamed() throws IOException {
    Path file =
        write(
            "c1",
            """
            endpoints: [https://127.0.0.1:2379]
            trusted-ca-file: k8s-shared-cluster.etcd-client-ca.crt
            cert-file: k8s-shared-cluster.etcd-client.crt
            """);
    assertThatThrownBy(() -> RemoteClusterConfig.load(file)).hasMessageContaining("'key-file' is missing");
  }

  @Test
  void httpsWithoutTrustedCaIsNamed() throws IOException {
    Path file = write("c1", "endpoints: [https://127.0.0.1:2379]\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining("'trusted-ca-file' is required for https endpoints");
  }

  @Test
  void anUnknownSettingIsNamed() throws IOException {
    Path file = write("c1", "endpoints: [http://127.0.0.1:2379]\ntrusted-ca: x\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file)).hasMessageContaining("unknown setting 'trusted-ca'");
  }

  @Test
  void anUnreadableFileIsNamed() {
    Path file = dir.resolve("c9");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining("remote cluster config " + file + " cannot be read");
  }

  @Test
  void invalidYamlIsNamed() throws IOException {
    Path file = write("c1", "endpoints: [http://127.0.0.1:2379\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining(file.toString())
        .hasMessageContaining("is not valid YAML");
  }

  @Test
  void aFileNameThatIsNotAClusterNameIsRejected() throws IOException {
    Path file = write("Shared_Cluster", "endpoints: [http://127.0.0.1:2379]\n");
    assertThatThrownBy(() -> RemoteClusterConfig.load(file))
        .hasMessageContaining("the file name must be the cluster name")
        .hasMessageContaining("Shared_Cluster");
  }

  @Test
  void aKeyFileWithoutAKeyIsNamedWhenBuildingTheClient() throws IOException {
    Files.writeString(dir.resolve("k8s-shared-cluster.etcd-client.key"), "not a key\n");
    RemoteClusterConfig config = RemoteClusterConfig.load(dir.resolve("k8s-shared-cluster"));
    assertThatThrownBy(() -> EtcdClients.build(config))
        .isInstanceOf(InvalidConfigException.class)
        .hasMessageContaining("'key-file' " + dir.resolve("k8s-shared-cluster.etcd-client.key"))
        .hasMessageContaining("holds no unencrypted private key");
  }
}
