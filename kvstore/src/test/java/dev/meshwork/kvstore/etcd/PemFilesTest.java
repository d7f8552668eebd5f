package dev.meshwork.kvstore.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.testing.tls.CertificateSpec;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.KeyAlgorithm;
import dev.meshwork.testing.tls.TestCertificates;
import java.nio.file.Path;
import java.security.PrivateKey;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
  @TempDir Path dir;

  @Test
  void readsPkcs8Pkcs1RsaAndSec1EcKeysAsTheSameKey() throws Exception {
    TestCertificates rsaCa = TestCertificates.create(dir.resolve("rsa"), "rsa-ca", KeyAlgorithm.RSA_2048);
    IssuedCertificate rsa = rsaCa.issue(CertificateSpec.client("rsa-client").withKeyAlgorithm(KeyAlgorithm.RSA_2048));
    IssuedCertificate ec = TestCertificates.create(dir.resolve("ec")).client("ec-client");

    for (IssuedCertificate cert : new IssuedCertificate[] {rsa, ec}) {
      PrivateKey pkcs8 = PemFiles.privateKey("'key-file'", cert.keyFile());
      PrivateKey traditional = PemFiles.privateKey("'key-file'", cert.writeTraditionalKey());
      assertThat(pkcs8.getEncoded()).isEqualTo(cert.privateKey().getEncoded());
      assertThat(traditional.getEncoded()).isEqualTo(cert.privateKey().getEncoded());
    }
  }

  @Test
  void readsACertificateChain() throws Exception {
    IssuedCertificate cert = TestCertificates.create(dir).client("c");
    assertThat(PemFiles.certificates("'cert-file'", cert.writeChain())).hasSize(2);
  }
}
