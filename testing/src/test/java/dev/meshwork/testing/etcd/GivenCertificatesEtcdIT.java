package dev.meshwork.testing.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.KeyAlgorithm;
import dev.meshwork.testing.tls.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A TLS etcd serving certificates the test made itself, as a CA command under test would write them. */
class GivenCertificatesEtcdIT {
  static final Path dir = tempDir();
  static final TestCertificates ca = TestCertificates.create(dir, "given-ca", KeyAlgorithm.RSA_2048);
  static final IssuedCertificate server = ca.server("server");
  static final IssuedCertificate admin = ca.client("admin");
  static final TlsFiles adminFiles = new TlsFiles(ca.caCertFile(), admin.certFile(), admin.writeTraditionalKey());

  @RegisterExtension
  static final EtcdExtension etcd = EtcdExtension.tls(
      new ServerTlsFiles(ca.caCertFile(), server.certFile(), server.writeTraditionalKey()), adminFiles);

  @AfterAll
  static void deleteFiles() throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
    }
  }

  @Test
  void servesTheGivenCertificatesWithPkcs1Keys() throws IOException {
    assertThat(Files.readString(adminFiles.clientKey())).startsWith("-----BEGIN RSA PRIVATE KEY-----");

    etcd.put("given/key", "v");

    assertThat(etcd.etcdctl("get", "given/key", "--print-value-only").output()).isEqualTo("v");
    assertThat(etcd.tlsFiles()).hasValue(adminFiles);
  }

  @Test
  void hasNoGeneratedCa() {
    assertThatThrownBy(etcd::certificates).hasMessageContaining("serves the caller's certificates");
  }

  @Test
  void refusesClientsOfAnotherCa() {
    TestCertificates other = TestCertificates.create(dir.resolve("other"), "other-ca");
    IssuedCertificate intruder = other.client("intruder");

    var result = dev.meshwork.testing.process.Command.run("/usr/bin/etcdctl", "--endpoints=" + etcd.endpoint(),
        "--cacert=" + ca.caCertFile(), "--cert=" + intruder.certFile(), "--key=" + intruder.keyFile(),
        "--dial-timeout=1s", "--command-timeout=2s", "get", "given/key");

    assertThat(result.succeeded()).isFalse();
  }

  private static Path tempDir() {
    try {
      return Files.createTempDirectory("mwt-given-certs-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
