package dev.meshwork.kvstore.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.testing.tls.CertificateSpec;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.KeyAlgorithm;
import dev.meshwork.testing.tls.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.util.Base64;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesTest {
  @TempDir Path dir;

  @Test
  void readsPkcs8AndPkcs1RsaKeysAsTheSameKey() throws Exception {
    TestCertificates ca = TestCertificates.create(dir.resolve("rsa"), "rsa-ca", KeyAlgorithm.RSA_2048);
    IssuedCertificate rsa =
        ca.issue(CertificateSpec.client("rsa-client").withKeyAlgorithm(KeyAlgorithm.RSA_2048));
    Path pkcs1 = rsa.writeTraditionalKey();
    assertThat(Files.readString(pkcs1)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(PemFiles.privateKey("'key-file'", rsa.keyFile()).getEncoded())
        .isEqualTo(rsa.privateKey().getEncoded());
    assertThat(PemFiles.privateKey("'key-file'", pkcs1).getEncoded())
        .isEqualTo(rsa.privateKey().getEncoded());
  }

  @Test
  void readsASec1EcKeyAsOpensslWritesIt() throws Exception {
    IssuedCertificate ec = TestCertificates.create(dir.resolve("ec")).client("ec-client");
    Path sec1 = writeSec1(ec.privateKey(), dir.resolve("ec-sec1.key"));
    PrivateKey read = PemFiles.privateKey("'key-file'", sec1);
    assertThat(read).isInstanceOf(ECPrivateKey.class);
    assertThat(((ECPrivateKey) read).getS()).isEqualTo(((ECPrivateKey) ec.privateKey()).getS());
    assertThat(((ECPrivateKey) read).getParams().getOrder())
        .isEqualTo(((ECPrivateKey) ec.privateKey()).getParams().getOrder());
  }

  @Test
  void readsACertificateChain() throws Exception {
    IssuedCertificate cert = TestCertificates.create(dir).client("c");
    assertThat(PemFiles.certificates("'cert-file'", cert.writeChain())).hasSize(2);
  }

  @Test
  void aFileWithoutCertificateIsNamed() throws Exception {
    Path file = Files.writeString(dir.resolve("empty.crt"), "nothing\n");
    assertThatThrownBy(() -> PemFiles.certificates("'trusted-ca-file'", file))
        .hasMessage("'trusted-ca-file' " + file + " holds no PEM certificate");
  }

  /** SEC 1 "EC PRIVATE KEY" with the named curve, the way {@code openssl ec} writes it. */
  static Path writeSec1(PrivateKey key, Path file) throws IOException {
    PrivateKeyInfo info = PrivateKeyInfo.getInstance(key.getEncoded());
    var sec1 =
        new org.bouncycastle.asn1.sec.ECPrivateKey(
            256, ((ECPrivateKey) key).getS(), info.getPrivateKeyAlgorithm().getParameters());
    String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(sec1.getEncoded());
    return Files.writeString(
        file, "-----BEGIN EC PRIVATE KEY-----\n" + body + "\n-----END EC PRIVATE KEY-----\n");
  }
}
