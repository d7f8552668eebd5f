package dev.meshwork.kvstore.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.RecordingHandler;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.etcd.TlsFiles;
import dev.meshwork.testing.tls.CertificateSpec;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.KeyAlgorithm;
import dev.meshwork.testing.tls.TestCertificates;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class EtcdTlsIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.tls();

  @TempDir Path dir;

  /** A clustermesh-style config file for cluster {@code name} with the given files. */
  private Path config(String name, Path ca, Path cert, Path key) throws IOException {
    return Files.writeString(
        dir.resolve(name),
        "endpoints:\n- " + etcd.endpoint() + "\n"
            + "trusted-ca-file: '" + ca + "'\n"
            + "cert-file: '" + cert + "'\n"
            + "key-file: '" + key + "'\n");
  }

  private static String read(Client client, String key) throws Exception {
    return client.getKVClient()
        .get(ByteSequence.from(key, StandardCharsets.UTF_8))
        .get(15, TimeUnit.SECONDS)
        .getKvs()
        .stream()
        .findFirst()
        .map(kv -> kv.getValue().toString(StandardCharsets.UTF_8))
        .orElse("absent");
  }

  @Test
  void aClientWithACertificateOfTheClustersCaIsServed() throws Exception {
    etcd.put("tls/hello", "world");
    TlsFiles files = etcd.tlsFiles().orElseThrow();
    RemoteClusterConfig config =
        RemoteClusterConfig.load(config("c1", files.caCert(), files.clientCert(), files.clientKey()));
    try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config)) {
      assertThat(read(connection.client(), "tls/hello")).isEqualTo("world");
    }
  }

  @Test
  void aPkcs1RsaKeyAndASec1EcKeyAreAccepted() throws Exception {
    etcd.put("tls/hello", "world");
    IssuedCertificate rsa =
        etcd.certificates().issue(CertificateSpec.client("rsa-agent").withKeyAlgorithm(KeyAlgorithm.RSA_2048));
    IssuedCertificate ec = etcd.certificates().client("ec-agent");
    Path pkcs1 = rsa.writeTraditionalKey();
    Path sec1 = PemFilesTest.writeSec1(ec.privateKey(), dir.resolve("ec-agent-sec1.key"));
    for (var pair : new Object[][] {{rsa, pkcs1}, {ec, sec1}}) {
      IssuedCertificate cert = (IssuedCertificate) pair[0];
      RemoteClusterConfig config =
          RemoteClusterConfig.load(config("c1", etcd.certificates().caCertFile(), cert.certFile(), (Path) pair[1]));
      try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config)) {
        assertThat(read(connection.client(), "tls/hello")).isEqualTo("world");
      }
    }
  }

  @Test
  void aClientWithACertificateOfAnotherCaIsRefused() throws Exception {
    IssuedCertificate intruder = TestCertificates.create(dir.resolve("other-ca"), "other-ca").client("intruder");
    RemoteClusterConfig config =
        RemoteClusterConfig.load(
            config("c1", etcd.certificates().caCertFile(), intruder.certFile(), intruder.keyFile()));
    try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config)) {
      assertThatThrownBy(() -> read(connection.client(), "tls/hello")).isInstanceOf(ExecutionException.class);
    }
  }

  @Test
  void aServerSignedByAnUntrustedCaIsRefused() throws Exception {
    TestCertificates other = TestCertificates.create(dir.resolve("other-ca"), "other-ca");
    IssuedCertificate valid = etcd.clientCertificate();
    RemoteClusterConfig config =
        RemoteClusterConfig.load(config("c1", other.caCertFile(), valid.certFile(), valid.keyFile()));
    try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config)) {
      assertThatThrownBy(() -> read(connection.client(), "tls/hello")).isInstanceOf(ExecutionException.class);
    }
  }

  @Test
  void replacedCertificateFilesAreUsedByTheNextConnectionWithoutARestart() throws Exception {
    etcd.put("tls/hello", "world");
    IssuedCertificate intruder = TestCertificates.create(dir.resolve("other-ca"), "other-ca").client("intruder");
    IssuedCertificate valid = etcd.certificates().client("rotated");
    Path cert = dir.resolve("client.crt");
    Path key = dir.resolve("client.key");
    Files.copy(intruder.certFile(), cert);
    Files.copy(intruder.keyFile(), key);
    RemoteClusterConfig config = RemoteClusterConfig.load(config("c1", etcd.certificates().caCertFile(), cert, key));
    try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config)) {
      assertThatThrownBy(() -> read(connection.client(), "tls/hello")).isInstanceOf(ExecutionException.class);

      Files.copy(valid.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(valid.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
      assertThat(read(connection.client(), "tls/hello")).isEqualTo("world");
    }
  }

  @Test
  void aLiveWatchMovesToRotatedCertificatesAndKeepsReceivingEvents() throws Exception {
    IssuedCertificate first = etcd.certificates().client("first");
    IssuedCertificate second = etcd.certificates().client("second");
    Path cert = dir.resolve("client.crt");
    Path key = dir.resolve("client.key");
    Files.copy(first.certFile(), cert);
    Files.copy(first.keyFile(), key);
    RemoteClusterConfig config = RemoteClusterConfig.load(config("c1", etcd.certificates().caCertFile(), cert, key));
    RecordingHandler<Heartbeat> seen = new RecordingHandler<>(Heartbeat::getWriter);
    try (ReloadingEtcdConnection connection = ReloadingEtcdConnection.open(config);
        WatchStore<Heartbeat> store =
            WatchStore.builder(connection, "rotation/", Codecs.HEARTBEAT, seen).build()) {
      store.start();
      await().atMost(Duration.ofSeconds(20)).until(store::isSynced);
      long relists = store.relists();

      Files.copy(second.certFile(), cert, StandardCopyOption.REPLACE_EXISTING);
      Files.copy(second.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
      assertThat(connection.reloadIfChanged()).isTrue();
      await().atMost(Duration.ofSeconds(20)).until(() -> store.relists() > relists && store.isWatching());

      etcd.put("rotation/a", Codecs.HEARTBEAT.encode(Heartbeat.newBuilder().setWriter("after").build()));
      await().atMost(Duration.ofSeconds(20)).until(() -> seen.view().containsKey("rotation/a"));
    }
  }
}
