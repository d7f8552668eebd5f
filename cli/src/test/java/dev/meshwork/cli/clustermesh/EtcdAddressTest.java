package dev.meshwork.cli.clustermesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The ADDRESS part of `connect --cluster NAME=CA_DIR=ADDRESS`. */
class EtcdAddressTest {

  @Test
  void anIpBecomesAHostAliasForTheMeshNameOnEtcdsPort() {
    EtcdAddress address = EtcdAddress.parse("198.18.0.10");

    assertThat(address.endpoint("k8s-test-cluster")).isEqualTo("https://k8s-test-cluster.mesh.meshwork.dev:2379");
    assertThat(address.hostAliasIp()).contains("198.18.0.10");
    assertThat(address.tlsHost("k8s-test-cluster")).isEqualTo("k8s-test-cluster.mesh.meshwork.dev");
  }

  @Test
  void anIpWithAPortKeepsThePort() {
    assertThat(EtcdAddress.parse("198.18.0.10:32379").endpoint("a")).isEqualTo("https://a.mesh.meshwork.dev:32379");
    assertThat(EtcdAddress.parse("[fd00::10]:2380").endpoint("a")).isEqualTo("https://a.mesh.meshwork.dev:2380");
    assertThat(EtcdAddress.parse("[fd00::10]:2380").hostAliasIp()).contains("fd00:0:0:0:0:0:0:10");
    assertThat(EtcdAddress.parse("fd00::10").hostAliasIp()).contains("fd00:0:0:0:0:0:0:10");
  }

  @Test
  void anHttpsUrlIsTheEndpointAndGetsEtcdsPortWhenItHasNone() {
    assertThat(EtcdAddress.parse("https://etcd.example.com:2379").endpoint("a")).isEqualTo("https://etcd.example.com:2379");
    assertThat(EtcdAddress.parse("https://etcd.example.com/").endpoint("a")).isEqualTo("https://etcd.example.com:2379");
    assertThat(EtcdAddress.parse("https://[fd00::1]:2379").tlsHost("a")).isEqualTo("fd00::1");
    assertThat(EtcdAddress.parse("https://etcd.example.com").hostAliasIp()).isEmpty();
  }

  @Test
  void anythingElseIsRefusedSayingWhatIsExpected() {
    assertThatThrownBy(() -> EtcdAddress.parse("etcd.example.com"))
        .hasMessage("\"etcd.example.com\" is neither an IP address (with an optional :port) nor an https:// URL");
    assertThatThrownBy(() -> EtcdAddress.parse("http://198.18.0.10:2379")).hasMessageContaining("plain http");
    assertThatThrownBy(() -> EtcdAddress.parse("198.18.0.10:0")).hasMessageContaining("port 0 is not a number in 1..65535");
    assertThatThrownBy(() -> EtcdAddress.parse("300.1.1.1")).hasMessageContaining("neither an IP address");
    assertThatThrownBy(() -> EtcdAddress.parse("https://etcd.example.com:2379/v3")).hasMessageContaining("no path or query");
    assertThatThrownBy(() -> EtcdAddress.parse("https://user:pw@etcd.example.com:2379")).hasMessageContaining("credentials");
  }
}
