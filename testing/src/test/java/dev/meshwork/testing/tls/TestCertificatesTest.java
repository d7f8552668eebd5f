package dev.meshwork.testing.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TestCertificatesTest {
  @TempDir Path dir;

  @Test
  void serverCertificateIsSignedByTheCaForLoopbackNamesAndExtraNames() throws Exception {
    TestCertificates ca = TestCertificates.create(dir, "cluster-1-ca");

    IssuedCertificate server = ca.server("etcd", "clustermesh-apiserver.kube-system.svc", "198.18.0.10");

    X509Certificate certificate = readCertificate(server.certFile());
    certificate.verify(readCertificate(ca.caCertFile()).getPublicKey());
    certificate.checkValidity();
    assertThat(certificate.getSubjectX500Principal().getName()).contains("CN=etcd");
    assertThat(certificate.getIssuerX500Principal().getName()).contains("CN=cluster-1-ca");
    List<String> names = certificate.getSubjectAlternativeNames().stream().map(name -> String.valueOf(name.get(1))).toList();
    assertThat(names).containsExactlyInAnyOrder("127.0.0.1", "0:0:0:0:0:0:0:1", "localhost", "clustermesh-apiserver.kube-system.svc", "198.18.0.10");
    assertThat(certificate.getExtendedKeyUsage()).containsExactlyInAnyOrder("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
    assertThat(readCertificate(ca.caCertFile()).getBasicConstraints()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void clientCertificateOnlyAuthenticatesClients() throws Exception {
    IssuedCertificate client = TestCertificates.create(dir).client("agent");

    X509Certificate certificate = readCertificate(client.certFile());

    assertThat(certificate.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
    assertThat(certificate.getSubjectAlternativeNames()).isNull();
    assertThat(client.certificate()).isEqualTo(certificate);
  }

  @Test
  void pkcs8KeyFileIsReadableByTheJdkAndMatchesTheCertificate() throws Exception {
    IssuedCertificate client = TestCertificates.create(dir).client("agent");

    String pem = Files.readString(client.keyFile());
    assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----");
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(pemBody(pem)));

    assertSignatureVerifies(key, client.certificate().getPublicKey(), "SHA256withECDSA");
  }

  @Test
  void traditionalEcKeyIsSec1WithTheCurveAndMatchesTheCertificate() throws Exception {
    IssuedCertificate client = TestCertificates.create(dir).client("agent");

    Path file = client.writeTraditionalKey();

    assertThat(file.getFileName()).hasToString("agent-traditional.key");
    String pem = Files.readString(file);
    assertThat(pem).startsWith("-----BEGIN EC PRIVATE KEY-----");
    assertSignatureVerifies(readTraditional(pem), client.certificate().getPublicKey(), "SHA256withECDSA");
  }

  @Test
  void rsaCaIssuesRsaKeysWithAPkcs1Variant() throws Exception {
    TestCertificates ca = TestCertificates.create(dir, "rsa-ca", KeyAlgorithm.RSA_2048);
    IssuedCertificate client = ca.client("legacy");

    String pem = Files.readString(client.writeTraditionalKey());

    assertThat(client.certificate().getPublicKey().getAlgorithm()).isEqualTo("RSA");
    assertThat(pem).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(Files.readString(client.keyFile())).startsWith("-----BEGIN PRIVATE KEY-----");
    assertSignatureVerifies(readTraditional(pem), client.certificate().getPublicKey(), "SHA256withRSA");
  }

  @Test
  void certificateFromAnotherCaDoesNotVerify() throws Exception {
    TestCertificates ca = TestCertificates.create(dir.resolve("a"), "ca-a");
    TestCertificates other = TestCertificates.create(dir.resolve("b"), "ca-b");

    IssuedCertificate foreign = other.client("intruder");

    assertThatThrownBy(() -> foreign.certificate().verify(ca.caCertificate().getPublicKey())).isInstanceOf(SignatureException.class);
  }

  @Test
  void specCanIssueAnExpiredCertificate() {
    TestCertificates ca = TestCertificates.create(dir);
    Instant now = Instant.now();

    IssuedCertificate expired = ca.issue(CertificateSpec.client("old").withValidity(now.minus(Duration.ofDays(30)), now.minus(Duration.ofDays(1))));

    assertThatThrownBy(() -> expired.certificate().checkValidity()).isInstanceOf(CertificateExpiredException.class);
  }

  @Test
  void chainFileHoldsCertificateThenCa() throws Exception {
    TestCertificates ca = TestCertificates.create(dir);
    IssuedCertificate server = ca.server("server");

    String chain = Files.readString(server.writeChain());

    assertThat(chain).isEqualTo(Files.readString(server.certFile()) + Files.readString(ca.caCertFile()));
  }

  @Test
  void refusesFileNamesThatEscapeTheDirectory() {
    assertThatThrownBy(() -> CertificateSpec.client("../evil")).hasMessageContaining("plain file name stem");
  }

  @Test
  void sslContextsCompleteAMutualTlsHandshakeOnlyWithTheSameCa() throws Exception {
    TestCertificates ca = TestCertificates.create(dir.resolve("ca"), "ca");
    IssuedCertificate server = ca.server("server");
    IssuedCertificate client = ca.client("client");
    IssuedCertificate intruder = TestCertificates.create(dir.resolve("other"), "other").client("intruder");

    assertThat(handshake(ca, server, client)).isEqualTo("hello");
    assertThatThrownBy(() -> handshake(ca, server, intruder)).hasCauseInstanceOf(SSLException.class);
  }

  @Test
  void sslContextFromPemFilesReadsTraditionalKeys() throws Exception {
    TestCertificates ca = TestCertificates.create(dir.resolve("ca"), "ca");
    IssuedCertificate server = ca.server("server");
    IssuedCertificate client = ca.client("client");

    javax.net.ssl.SSLContext fromFiles = TestCertificates.sslContext(ca.caCertFile(), client.certFile(), client.writeTraditionalKey());

    assertThat(fromFiles.getProtocol()).isEqualTo("TLS");
    assertThat(secret(TestCertificates.readPrivateKey(client.writeTraditionalKey()))).isEqualTo(secret(client.privateKey()));
    assertThat(secret(TestCertificates.readPrivateKey(client.keyFile()))).isEqualTo(secret(client.privateKey()));
    assertThatThrownBy(() -> TestCertificates.readPrivateKey(client.certFile())).hasMessageContaining("cannot read private key");
    assertThat(handshake(ca, server, fromFiles)).isEqualTo("hello");
  }

  /** Serves one TLS connection requiring a client certificate; returns what the client read. */
  private static String handshake(TestCertificates ca, IssuedCertificate server, IssuedCertificate client) throws Exception {
    return handshake(ca, server, ca.sslContext(client));
  }

  private static String handshake(TestCertificates ca, IssuedCertificate server, javax.net.ssl.SSLContext clientContext) throws Exception {
    try (SSLServerSocket listener = (SSLServerSocket) ca.sslContext(server).getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      listener.setNeedClientAuth(true);
      listener.setSoTimeout(5000);
      CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
        try (SSLSocket socket = (SSLSocket) listener.accept(); OutputStream out = socket.getOutputStream()) {
          out.write("hello".getBytes());
        } catch (Exception e) {
          // the client sees the failed handshake
        }
      });
      try (SSLSocket socket = (SSLSocket) clientContext.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), listener.getLocalPort());
          InputStream in = socket.getInputStream()) {
        socket.setSoTimeout(5000);
        socket.startHandshake();
        return new String(in.readAllBytes());
      } catch (Exception e) {
        throw new IllegalStateException("handshake failed", e);
      } finally {
        serving.get(10, TimeUnit.SECONDS);
      }
    }
  }

  private static java.math.BigInteger secret(PrivateKey key) {
    return ((java.security.interfaces.ECPrivateKey) key).getS();
  }

  private static X509Certificate readCertificate(Path file) throws Exception {
    try (InputStream in = Files.newInputStream(file)) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
  }

  private static byte[] pemBody(String pem) {
    List<String> lines = pem.lines().filter(line -> !line.startsWith("-----")).toList();
    return Base64.getDecoder().decode(String.join("", lines));
  }

  private static PrivateKey readTraditional(String pem) throws Exception {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      return new JcaPEMKeyConverter().getKeyPair((PEMKeyPair) parser.readObject()).getPrivate();
    }
  }

  private static void assertSignatureVerifies(PrivateKey key, PublicKey publicKey, String algorithm) throws Exception {
    byte[] data = "meshwork".getBytes();
    Signature signer = Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(data);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance(algorithm);
    verifier.initVerify(publicKey);
    verifier.update(data);
    assertThat(verifier.verify(signature)).isTrue();
  }
}
