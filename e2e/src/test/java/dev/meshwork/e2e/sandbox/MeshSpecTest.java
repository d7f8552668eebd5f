package dev.meshwork.e2e.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.IpPrefix;
import org.junit.jupiter.api.Test;

class MeshSpecTest {

  @Test
  void defaultMeshIsTheBlogsTwoClustersWithTwoNodesEach() {
    MeshSpec mesh = MeshSpec.blog();

    assertThat(mesh.underlay()).isEqualTo(IpPrefix.parse("198.18.100.0/24"));
    assertThat(mesh.clusters()).extracting(MeshSpec.Cluster::name, MeshSpec.Cluster::id)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("k8s-test-cluster", 1),
            org.assertj.core.groups.Tuple.tuple("k8s-shared-cluster", 2));
    assertThat(mesh.cluster("k8s-test-cluster").podCidr()).isEqualTo(IpPrefix.parse("10.1.0.0/16"));
    assertThat(mesh.cluster("k8s-shared-cluster").podCidr()).isEqualTo(IpPrefix.parse("10.2.0.0/16"));
    assertThat(mesh.clusters()).allSatisfy(c -> {
      assertThat(c.serviceCidr()).isEqualTo(IpPrefix.parse("10.100.0.0/16"));
      assertThat(c.nodes()).hasSize(2);
    });
  }

  @Test
  void hostAndNodesGetUnderlayAddressesInFileOrder() {
    MeshSpec mesh = MeshSpec.blog(IpPrefix.parse("198.19.7.0/24"));

    assertThat(mesh.hostAddress()).isEqualTo("198.19.7.1");
    assertThat(mesh.nodeAddress("test-1")).isEqualTo("198.19.7.10");
    assertThat(mesh.nodeAddress("shared-2")).isEqualTo("198.19.7.13");
  }

  @Test
  void parsesAMeshFileWithNodeNamesOrACount() {
    MeshSpec mesh = MeshSpec.parse("""
        underlay: 198.18.5.0/24
        clusters:
        - name: east
          id: 7
          podCidr: 10.7.0.0/16
          serviceCidr: 10.96.0.0/16
          nodes: [e1, e2, e3]
        - name: west
          id: 8
          podCidr: 10.8.0.0/16
          nodes: 2
        """);

    assertThat(mesh.underlay()).isEqualTo(IpPrefix.parse("198.18.5.0/24"));
    assertThat(mesh.cluster("east").nodes()).containsExactly("e1", "e2", "e3");
    assertThat(mesh.cluster("west").nodes()).containsExactly("west-1", "west-2");
    assertThat(mesh.cluster("west").serviceCidr()).isEqualTo(IpPrefix.parse("10.100.0.0/16"));
  }

  @Test
  void writtenMeshFileReadsBackTheSame() {
    MeshSpec mesh = MeshSpec.blog();

    assertThat(MeshSpec.parse(mesh.toYaml())).isEqualTo(mesh);
  }

  @Test
  void clustermeshSourceIsDirectUnlessTheFileAsksForCacheMode() {
    String clusters = """
        clusters:
        - {name: a, id: 1, podCidr: 10.1.0.0/16, nodes: [n1]}
        - {name: b, id: 2, podCidr: 10.2.0.0/16, nodes: [n2]}
        """;

    assertThat(MeshSpec.parse(clusters).clustermeshSource()).isEqualTo(MeshSpec.ClustermeshSource.DIRECT);
    MeshSpec cache = MeshSpec.parse("clustermeshSource: cache\n" + clusters);
    assertThat(cache.cacheMode()).isTrue();
    assertThat(MeshSpec.parse(cache.toYaml())).isEqualTo(cache);
    assertThatThrownBy(() -> MeshSpec.parse("clustermeshSource: kvstoremesh\n" + clusters))
        .hasMessageContaining("clustermeshSource 'kvstoremesh' must be direct or cache");
  }

  @Test
  void refusesAnUnderlayOutsideTheBenchmarkingRange() {
    assertThatThrownBy(() -> MeshSpec.blog(IpPrefix.parse("192.168.1.0/24")))
        .hasMessageContaining("underlay 192.168.1.0/24 must be a /24 inside 198.18.0.0/15");
  }

  @Test
  void badInputNamesTheCluster() {
    assertThatThrownBy(() -> MeshSpec.parse("""
        clusters:
        - {name: a, id: 1, podCidr: 10.1.0.0/16, nodes: [n1]}
        - {name: b, id: 1, podCidr: 10.2.0.0/16, nodes: [n2]}
        """)).hasMessageContaining("cluster b: id 1 must be 1..255 and unique");
    assertThatThrownBy(() -> MeshSpec.parse("""
        clusters:
        - {name: a, id: 1, podCidr: 10.1.0.0/16, nodes: [n1]}
        - {name: b, id: 2, podCidr: 10.1.128.0/17, nodes: [n2]}
        """)).hasMessageContaining("cluster b: pod CIDR 10.1.128.0/17 overlaps another cluster's 10.1.0.0/16");
    assertThatThrownBy(() -> MeshSpec.parse("""
        clusters:
        - {name: a, id: 1, podCidr: 172.16.0.0/16, nodes: [n1]}
        """)).hasMessageContaining("cluster a: 172.16.0.0/16 must lie inside 10.0.0.0/8");
    assertThatThrownBy(() -> MeshSpec.parse("""
        clusters:
        - {name: a, id: 1, podCidr: 10.1.0.0/16, nodes: [node.one]}
        """)).hasMessageContaining("cluster a: node name 'node.one'");
    assertThatThrownBy(() -> MeshSpec.parse("""
        clusters:
        - {name: a, id: 1, podCidr: 10.1.0.0/16}
        """)).hasMessageContaining("cluster a: 'nodes' must be");
    assertThatThrownBy(() -> MeshSpec.parse("clusters: [")).hasMessageContaining("not valid YAML");
  }
}
