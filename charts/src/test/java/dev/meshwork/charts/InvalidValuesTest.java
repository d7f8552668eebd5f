package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Values that cannot work stop the render, and the message names the value and what is wrong. */
class InvalidValuesTest {

  static Stream<Arguments> invalidValues() {
    return Stream.of(
        Arguments.of(Map.of("cluster.id", 0), new String[] {"/cluster/id", "minimum"}),
        Arguments.of(Map.of("cluster.id", 300), new String[] {"/cluster/id", "maximum"}),
        Arguments.of(Map.of("cluster.name", "K8s_Test"), new String[] {"/cluster/name", "does not match pattern"}),
        Arguments.of(Map.of("cluster.name", "-k8s-test"), new String[] {"/cluster/name", "does not match pattern"}),
        Arguments.of(Map.of("cluster.name", "a-cluster-name-longer-than-32-chars"), new String[] {"/cluster/name", "maxLength"}),
        Arguments.of(Map.of("ipam.operator.clusterPoolIPv4PodCIDR", "10.1.0.0/33"),
            new String[] {"/ipam/operator/clusterPoolIPv4PodCIDR", "does not match pattern"}),
        Arguments.of(Map.of("ipam.operator.clusterPoolIPv4PodCIDR", "10.1.0/16"),
            new String[] {"/ipam/operator/clusterPoolIPv4PodCIDR", "does not match pattern"}),
        Arguments.of(Map.of("ipam.operator.clusterPoolIPv4PodCIDR", "10.1.0.1/16"),
            new String[] {"ipam.operator.clusterPoolIPv4PodCIDR 10.1.0.1/16 has host bits set after /16"}),
        Arguments.of(Map.of("ipam.operator.clusterPoolIPv4PodCIDR", "10.1.0.0/16", "ipam.operator.clusterPoolIPv4MaskSize", 8),
            new String[] {"ipam.operator.clusterPoolIPv4MaskSize 8 is larger than the pool ipam.operator.clusterPoolIPv4PodCIDR 10.1.0.0/16"}),
        Arguments.of(Map.of("ipam.operator.clusterPoolIPv4MaskSize", 33), new String[] {"/ipam/operator/clusterPoolIPv4MaskSize", "maximum"}),
        Arguments.of(Map.of("tunnel", "geneve"), new String[] {"/tunnel", "vxlan"}),
        Arguments.of(Map.of("kubeProxyReplacement", "maybe"), new String[] {"/kubeProxyReplacement"}),
        Arguments.of(Map.of("etcd.replicas", 2), new String[] {"/etcd/replicas"}),
        Arguments.of(Map.of("agent.datapath", "ebpf"), new String[] {"/agent/datapath"}),
        Arguments.of(Map.of("operator.leaderElection.renewDeadline", "20s"),
            new String[] {"operator.leaderElection.renewDeadline 20s must be shorter than operator.leaderElection.leaseDuration 15s"}),
        Arguments.of(Map.of("etcd.tls.ca.cert", "-----BEGIN CERTIFICATE-----"),
            new String[] {"etcd.tls.ca.cert is set but etcd.tls.ca.key is empty"}),
        Arguments.of(Map.of("cluster.name", "k8s-test-cluster", "clustermesh.hostAliases[0].ip", "192.168.18.202",
                "clustermesh.hostAliases[0].hostnames[0]", "k8s-test-cluster.mesh.meshwork.dev"),
            new String[] {"clustermesh.hostAliases[0]: k8s-test-cluster.mesh.meshwork.dev is this cluster's own etcd name"}),
        Arguments.of(Map.of("clustermesh.hostAliases[0].ip", "not-an-ip", "clustermesh.hostAliases[0].hostnames[0]", "a.mesh.meshwork.dev"),
            new String[] {"/clustermesh/hostAliases/0/ip"}),
        Arguments.of(Map.of("agent.metricsPort", 70000), new String[] {"/agent/metricsPort", "maximum"}),
        Arguments.of(Map.of("clusterName", "k8s-test-cluster"), new String[] {"clusterName"}));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidValues")
  void failsTheRenderNamingTheValue(Map<String, Object> values, String[] messageParts) {
    assertThatThrownBy(() -> RenderedChart.renderWith(values))
        .isInstanceOf(IllegalStateException.class)
        .message().contains(messageParts);
  }
}
