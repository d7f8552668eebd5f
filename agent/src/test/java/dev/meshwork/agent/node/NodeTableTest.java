package dev.meshwork.agent.node;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeTableTest {
  static final String LOCAL = "k8s-test-cluster";
  final NodeTable table = new NodeTable(LOCAL);
  final List<IpPrefix> touched = new ArrayList<>();

  static NodeRecord node(String cluster, String name, String ip, String... cidrs) {
    return new NodeRecord(cluster, name, Ipv4.parse(ip), java.util.Arrays.stream(cidrs).map(IpPrefix::parse).toList());
  }

  @Test
  void remoteNodeOverlappingAnotherClustersPodCidrIsReported() {
    table.upsert(node("k8s-shared-cluster", "a", "198.18.1.1", "10.2.0.0/24"));
    assertThat(table.overlapWithOtherCluster(node("k8s-third-cluster", "b", "198.18.2.1", "10.2.0.128/25")))
        .hasValueSatisfying(why -> assertThat(why).contains("10.2.0.128/25", "10.2.0.0/24", "k8s-shared-cluster/a"));
    assertThat(table.overlapWithOtherCluster(node("k8s-shared-cluster", "c", "198.18.1.3", "10.2.0.0/24")))
        .as("nodes of one cluster are not checked against each other").isEmpty();
    assertThat(table.overlapWithOtherCluster(node("k8s-third-cluster", "b", "198.18.2.1", "10.3.0.0/24"))).isEmpty();
  }

  @Test
  void localNodeEvictsARemoteNodeThatClaimedItsAddressesFirst() {
    table.listener(touched::add);
    table.upsert(node("k8s-shared-cluster", "evil", "198.18.1.9", "10.1.1.128/25"));

    List<NodeRecord> evicted = table.upsert(node(LOCAL, "test-node-2", "198.18.0.2", "10.1.1.0/24"));

    assertThat(evicted).extracting(NodeRecord::name).containsExactly("evil");
    assertThat(table.all()).extracting(NodeRecord::name).containsExactly("test-node-2");
    assertThat(touched).contains(IpPrefix.parse("10.1.1.128/25"), IpPrefix.parse("10.1.1.0/24"));
  }

  @Test
  void ownerOfAPrefixPrefersTheLocalCluster() {
    table.upsert(node("k8s-shared-cluster", "a", "198.18.1.1", "10.9.0.0/24"));
    assertThat(table.ownerOf(IpPrefix.parse("10.9.0.0/24"))).map(NodeRecord::cluster).contains("k8s-shared-cluster");
    table.upsert(node(LOCAL, "b", "198.18.0.1", "10.9.0.0/24"));
    assertThat(table.ownerOf(IpPrefix.parse("10.9.0.0/24"))).map(NodeRecord::cluster).contains(LOCAL);
  }

  @Test
  void aNodeChangeReportsItsOldAndNewIpBesidesItsPodCidrs() {
    table.listener(touched::add);
    table.upsert(node("k8s-shared-cluster", "a", "198.18.1.1", "10.2.0.0/24"));
    table.upsert(node("k8s-shared-cluster", "a", "198.18.1.2", "10.2.0.0/24"));
    assertThat(touched).contains(IpPrefix.parse("198.18.1.1/32"), IpPrefix.parse("198.18.1.2/32"), IpPrefix.parse("10.2.0.0/24"));

    touched.clear();
    table.drain("k8s-shared-cluster");
    assertThat(touched).containsExactlyInAnyOrder(IpPrefix.parse("198.18.1.2/32"), IpPrefix.parse("10.2.0.0/24"));
  }

  @Test
  void theNodeOwningAnIpIsTheLocalClustersFirst() {
    table.upsert(node("k8s-shared-cluster", "twin", "198.18.0.7"));
    table.upsert(node(LOCAL, "node-7", "198.18.0.7"));
    assertThat(table.withIp(Ipv4.parse("198.18.0.7"))).map(NodeRecord::name).contains("node-7");
    assertThat(table.withIp(Ipv4.parse("198.18.0.8"))).isEmpty();
    assertThat(table.withIp(0)).as("0 means no IP, never a node").isEmpty();
  }
}
