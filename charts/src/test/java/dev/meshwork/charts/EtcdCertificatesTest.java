package dev.meshwork.charts;

import static dev.meshwork.charts.MeshworkChartTest.decode;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.meshwork.testing.tls.KeyAlgorithm;
import dev.meshwork.testing.tls.TestCertificates;
import io.fabric8.kubernetes.api.model.Secret;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.security.auth.x500.X500Principal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The etcd CA and the certificates the chart issues: every component is the etcd user of its CN. */
class EtcdCertificatesTest {
  private static final RenderedChart CHART = RenderedChart.render(RenderedChart.values("k8s-shared-cluster.yaml"));
  /** The users files/etcd-init.sh creates with a role (besides the remote clusters' user). */
  private static final Map<String, String> USERS = Map.of(
      "meshwork-etcd-client-admin", "root",
      "meshwork-etcd-client-operator", "meshwork-operator",
      "meshwork-etcd-client-kvstore-sync", "meshwork-kvstore-sync",
      "meshwork-etcd-client-agent", "meshwork-agent");

  @TempDir Path temp;

  @Test
  void everyComponentGetsAClientCertificateWhoseCommonNameIsItsEtcdUser() throws Exception {
    X509Certificate ca = certificate(decode(CHART.one(Secret.class, "meshwork-etcd-ca"), "ca.crt"));
    String script = MeshworkChartTest.ChartFiles.read("etcd-init.sh");

    for (Map.Entry<String, String> entry : USERS.entrySet()) {
      Secret secret = CHART.one(Secret.class, entry.getKey());
      X509Certificate client = certificate(decode(secret, "tls.crt"));

      assertThat(secret.getType()).isEqualTo("kubernetes.io/tls");
      assertThat(commonName(client)).as("CN of %s", entry.getKey()).isEqualTo(entry.getValue());
      assertThat(secret.getMetadata().getAnnotations()).containsEntry("meshwork.dev/etcd-user", entry.getValue());
      assertThat(decode(secret, "ca.crt")).isEqualTo(decode(CHART.one(Secret.class, "meshwork-etcd-ca"), "ca.crt"));
      assertThatCode(() -> client.verify(ca.getPublicKey())).as("%s is issued by the etcd CA", entry.getKey()).doesNotThrowAnyException();
      assertThat(script).contains("ensure_user " + entry.getValue() + " ");
    }
  }

  @Test
  void serverCertificateNamesEveryMemberTheLocalServiceAndTheMeshName() throws Exception {
    X509Certificate server = certificate(decode(CHART.one(Secret.class, "meshwork-etcd-server"), "tls.crt"));

    assertThat(subjectAltNames(server)).contains(
        "*.meshwork-etcd-headless.kube-system.svc", "meshwork-etcd.kube-system.svc", "k8s-shared-cluster.mesh.meshwork.dev",
        "localhost", "127.0.0.1");
  }

  @ParameterizedTest
  @EnumSource(KeyAlgorithm.class)
  void issuesFromTheCaOfMeshworkClustermeshCa(KeyAlgorithm algorithm) throws Exception {
    TestCertificates given = TestCertificates.create(temp.resolve("ca"), "k8s-test-cluster-etcd-ca", algorithm);
    Path values = temp.resolve("ca-values.yaml");
    Files.writeString(values, "etcd:\n  tls:\n    extraSans: [etcd.k8s-test.example.com, 192.168.2.234]\n    ca:\n      cert: |\n"
        + indent(Files.readString(given.caCertFile()), 8) + "      key: |\n" + indent(Files.readString(given.caKeyFile()), 8));

    RenderedChart chart = RenderedChart.render(RenderedChart.values("k8s-test-cluster.yaml"), values);

    X509Certificate server = certificate(decode(chart.one(Secret.class, "meshwork-etcd-server"), "tls.crt"));
    X509Certificate operator = certificate(decode(chart.one(Secret.class, "meshwork-etcd-client-operator"), "tls.crt"));
    assertThatCode(() -> server.verify(given.caCertificate().getPublicKey())).doesNotThrowAnyException();
    assertThatCode(() -> operator.verify(given.caCertificate().getPublicKey())).doesNotThrowAnyException();
    assertThat(subjectAltNames(server)).contains("etcd.k8s-test.example.com", "192.168.2.234", "k8s-test-cluster.mesh.meshwork.dev");
    assertThat(certificate(decode(chart.one(Secret.class, "meshwork-etcd-ca"), "ca.crt"))).isEqualTo(given.caCertificate());
  }

  @Test
  void clustermeshSecretFromValuesHasOneKvstoreConfigPerRemoteClusterBesideItsCertificates() throws IOException {
    TestCertificates shared = TestCertificates.create(temp.resolve("shared"), "k8s-shared-cluster-etcd-ca");
    var client = shared.client("remote");
    Path values = temp.resolve("mesh-values.yaml");
    Files.writeString(values, """
        clustermesh:
          config:
            enabled: true
            clusters:
              - name: k8s-shared-cluster
                tls:
                  caCert: |
        %s
                  cert: |
        %s
                  key: |
        %s
              - name: k8s-prod-cluster
                endpoints: [https://etcd.prod.example.com:2379, https://198.18.0.12:2379]
                tls:
                  caCert: |
        %s
                  cert: |
        %s
                  key: |
        %s
        """.formatted(indent(Files.readString(shared.caCertFile()), 12), indent(Files.readString(client.certFile()), 12),
        indent(Files.readString(client.keyFile()), 12), indent(Files.readString(shared.caCertFile()), 12),
        indent(Files.readString(client.certFile()), 12), indent(Files.readString(client.keyFile()), 12)));

    RenderedChart chart = RenderedChart.render(RenderedChart.values("k8s-test-cluster.yaml"), values);
    Secret mesh = chart.one(Secret.class, "meshwork-clustermesh");

    assertThat(mesh.getData()).containsOnlyKeys(
        "k8s-shared-cluster", "k8s-shared-cluster.etcd-client-ca.crt", "k8s-shared-cluster.etcd-client.crt", "k8s-shared-cluster.etcd-client.key",
        "k8s-prod-cluster", "k8s-prod-cluster.etcd-client-ca.crt", "k8s-prod-cluster.etcd-client.crt", "k8s-prod-cluster.etcd-client.key");
    assertThat(decode(mesh, "k8s-shared-cluster")).isEqualTo("""
        endpoints:
        - https://k8s-shared-cluster.mesh.meshwork.dev:2379
        trusted-ca-file: /var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client-ca.crt
        cert-file: /var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client.crt
        key-file: /var/lib/meshwork/clustermesh/k8s-shared-cluster.etcd-client.key
        """);
    assertThat(decode(mesh, "k8s-prod-cluster")).startsWith("""
        endpoints:
        - https://etcd.prod.example.com:2379
        - https://198.18.0.12:2379
        """);
    assertThat(decode(mesh, "k8s-shared-cluster.etcd-client.key")).isEqualTo(Files.readString(client.keyFile()));
  }

  @Test
  void clustermeshConfigMustNotListTheClusterItself() {
    Map<String, Object> values = Map.of("cluster.name", "k8s-test-cluster", "clustermesh.config.enabled", true,
        "clustermesh.config.clusters[0].name", "k8s-test-cluster",
        "clustermesh.config.clusters[0].tls.caCert", "BEGIN CERTIFICATE", "clustermesh.config.clusters[0].tls.cert", "BEGIN CERTIFICATE",
        "clustermesh.config.clusters[0].tls.key", "PRIVATE KEY");

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RenderedChart.renderWith(values))
        .hasMessageContaining("clustermesh.config.clusters[0]: k8s-test-cluster is this cluster's own name");
  }

  private static String indent(String text, int spaces) {
    String prefix = " ".repeat(spaces);
    return text.lines().map(line -> prefix + line).collect(Collectors.joining("\n", "", "\n"));
  }

  private static X509Certificate certificate(String pem) throws CertificateException {
    return (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
  }

  private static String commonName(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName(X500Principal.RFC2253).replaceFirst("^.*CN=([^,]+).*$", "$1");
  }

  private static List<String> subjectAltNames(X509Certificate certificate) throws CertificateParsingException {
    Collection<List<?>> names = certificate.getSubjectAlternativeNames();
    return names == null ? List.of() : names.stream().map(name -> String.valueOf(name.get(1))).toList();
  }
}
