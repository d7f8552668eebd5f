package dev.meshwork.testing.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.TestCertificates;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class TlsEtcdExtensionIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.tls();

  @TempDir Path temp;

  @Test
  void servesTlsAndHandsOutTheClientFiles() {
    assertThat(etcd.endpoint()).matches("https://127\\.0\\.0\\.1:\\d+");
    TlsFiles files = etcd.tlsFiles().orElseThrow();
    assertThat(files.caCert()).isEqualTo(etcd.certificates().caCertFile()).exists();
    assertThat(files.clientCert()).exists();
    assertThat(files.clientKey()).content().startsWith("-----BEGIN PRIVATE KEY-----");
  }

  @Test
  void acceptsAClientWithACertificateFromItsCa() {
    TlsFiles files = etcd.tlsFiles().orElseThrow();

    assertThat(etcdctl(files.caCert(), files.clientCert(), files.clientKey(), "put", "tls/key", "secret").output()).isEqualTo("OK");
    assertThat(etcd.get("tls/key")).isPresent();
  }

  @Test
  void acceptsMoreClientCertificatesIssuedFromItsCaIncludingTraditionalKeyFiles() {
    IssuedCertificate agent = etcd.certificates().client("agent");

    CommandResult withPkcs8 = etcdctl(etcd.certificates().caCertFile(), agent.certFile(), agent.keyFile(), "put", "tls/agent", "1");
    CommandResult withSec1 = etcdctl(etcd.certificates().caCertFile(), agent.certFile(), agent.writeTraditionalKey(), "get", "tls/agent");

    assertThat(withPkcs8.output()).isEqualTo("OK");
    assertThat(withSec1.output()).contains("tls/agent");
  }

  @Test
  void refusesAClientCertificateFromAnotherCa() {
    TestCertificates otherCa = TestCertificates.create(temp.resolve("other-ca"), "intruder-ca");
    IssuedCertificate intruder = otherCa.client("intruder");

    CommandResult result = etcdctl(etcd.certificates().caCertFile(), intruder.certFile(), intruder.keyFile(), "put", "tls/intruder", "x");

    assertThat(result.succeeded()).isFalse();
    assertThat(etcd.get("tls/intruder")).isEmpty();
    // the same refusal seen from the JDK: the handshake fails on the client certificate
    SSLContext presentingIntruder = etcd.certificates().sslContext(intruder);
    assertThatThrownBy(() -> health(presentingIntruder)).isInstanceOf(IOException.class);
  }

  @Test
  void refusesAClientWithoutCertificate() {
    SSLContext anonymous = etcd.certificates().sslContext(null);

    assertThatThrownBy(() -> health(anonymous)).isInstanceOf(IOException.class);
    assertThat(Command.run("/usr/bin/etcdctl", "--endpoints=" + etcd.endpoint(), "--cacert=" + etcd.certificates().caCertFile(),
        "--dial-timeout=1s", "--command-timeout=2s", "get", "tls/key").succeeded()).isFalse();
  }

  @Test
  void aValidClientSeesHealthOverTheJdkClient() throws Exception {
    HttpResponse<String> response = health(etcd.certificates().sslContext(etcd.clientCertificate()));

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).contains("\"health\":\"true\"");
  }

  @Test
  void restartKeepsServingTlsWithTheSameCertificates() throws Exception {
    Path caBefore = etcd.tlsFiles().orElseThrow().caCert();
    String caPem = Files.readString(caBefore);

    etcd.restart();

    assertThat(Files.readString(etcd.tlsFiles().orElseThrow().caCert())).isEqualTo(caPem);
    assertThat(health(etcd.certificates().sslContext(etcd.clientCertificate())).statusCode()).isEqualTo(200);
  }

  private static CommandResult etcdctl(Path ca, Path cert, Path key, String... args) {
    List<String> command = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints=" + etcd.endpoint(),
        "--cacert=" + ca, "--cert=" + cert, "--key=" + key, "--dial-timeout=1s", "--command-timeout=2s"));
    command.addAll(List.of(args));
    return Command.run(command, Duration.ofSeconds(20));
  }

  private static HttpResponse<String> health(SSLContext context) throws IOException, InterruptedException {
    try (HttpClient client = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(2)).build()) {
      return client.send(HttpRequest.newBuilder(URI.create(etcd.endpoint() + "/health")).timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.ofString());
    }
  }
}
