package dev.meshwork.agent.clustermesh;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.NodeAddress;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Validation of one cluster's keys before they reach the tables. */
class ClusterStateIngestTest {
  static final String SHARED = "k8s-shared-cluster";
  final KeyLayout layout = KeyLayout.state();
  final NodeTable nodes = new NodeTable("k8s-test-cluster");
  final IpCacheTable ipcache = new IpCacheTable("k8s-test-cluster");
  final List<String> reasons = new ArrayList<>();
  final ClusterStateIngest ingest = new ClusterStateIngest(
      SHARED, ClusterId.of(2), KeyLayout.state(), true, nodes, new ServiceTable("k8s-test-cluster"), new IdentityTable(), ipcache,
      reasons::add, (cluster, why) -> {});

  IPCacheEntry pod(String ip, String cluster, int identity) {
    return IPCacheEntry.newBuilder().setIp(ip).setCluster(cluster).setIdentity(identity).setHostIp("198.18.1.1").build();
  }

  @Test
  void acceptsAPodOfTheConnectedClusterAndAppliesIt() {
    var entry = pod("10.2.0.5", SHARED, 2 << 16 | 300);
    String key = layout.ipcacheKey(SHARED, "10.2.0.5");
    assertThat(ingest.ipcacheValidator().rejection(key, entry)).isEmpty();
    ingest.ipcacheHandler(() -> {}).onUpsert(key, entry);
    assertThat(ipcache.lookup(Ipv4.parse("10.2.0.5"))).hasValueSatisfying(o -> assertThat(o.cluster()).isEqualTo(SHARED));
    ingest.ipcacheHandler(() -> {}).onDelete(key);
    assertThat(ipcache.lookup(Ipv4.parse("10.2.0.5"))).isEmpty();
    assertThat(ingest.rejected()).isZero();
  }

  @Test
  void rejectsAndCountsKeysOfAnotherClusterByKeyOrByField() {
    assertThat(ingest.ipcacheValidator().rejection(layout.ipcacheKey("k8s-third-cluster", "10.3.0.5"), pod("10.3.0.5", "k8s-third-cluster", 3 << 16 | 300)))
        .hasValueSatisfying(r -> assertThat(r).contains("key belongs to cluster 'k8s-third-cluster'"));
    assertThat(ingest.ipcacheValidator().rejection(layout.ipcacheKey(SHARED, "10.2.0.6"), pod("10.2.0.6", "k8s-third-cluster", 2 << 16 | 300)))
        .hasValueSatisfying(r -> assertThat(r).contains("says cluster 'k8s-third-cluster'"));
    assertThat(ingest.rejected()).isEqualTo(2);
    assertThat(reasons).allMatch(r -> r.startsWith("rejected key meshwork/v1/state/ipcache/"));
  }

  @Test
  void rejectsIdentitiesOutsideTheClustersRange() {
    int foreign = 1 << 16 | 300;
    assertThat(ingest.identityValidator().rejection(layout.identityKey(SHARED, foreign),
        Identity.newBuilder().setId(foreign).setCluster(SHARED).build()))
        .hasValueSatisfying(r -> assertThat(r).contains("outside the range of cluster id 2"));
    int reservedRange = 2 << 16 | 12; // local part below 256
    assertThat(ingest.identityValidator().rejection(layout.identityKey(SHARED, reservedRange),
        Identity.newBuilder().setId(reservedRange).setCluster(SHARED).build())).isPresent();
    assertThat(ingest.ipcacheValidator().rejection(layout.ipcacheKey(SHARED, "10.2.0.7"), pod("10.2.0.7", SHARED, foreign)))
        .hasValueSatisfying(r -> assertThat(r).contains("outside the range"));
  }

  @Test
  void rejectsMismatchedNamesAndBadAddressesWithAReason() {
    assertThat(ingest.ipcacheValidator().rejection(layout.ipcacheKey(SHARED, "10.2.0.8"), pod("10.2.0.9", SHARED, 2 << 16 | 300)))
        .hasValueSatisfying(r -> assertThat(r).contains("differs from the key's 10.2.0.8"));
    Node badCidr = Node.newBuilder().setCluster(SHARED).setName("n1").setClusterId(2)
        .addAddresses(NodeAddress.newBuilder().setType("InternalIP").setAddress("198.18.1.1"))
        .addPodCidrs("10.2.0.1/24").build();
    assertThat(ingest.nodeValidator().rejection(layout.nodeKey(SHARED, "n1"), badCidr))
        .hasValueSatisfying(r -> assertThat(r).contains("host bits"));
    Node wrongId = badCidr.toBuilder().clearPodCidrs().addPodCidrs("10.2.0.0/24").setClusterId(5).build();
    assertThat(ingest.nodeValidator().rejection(layout.nodeKey(SHARED, "n1"), wrongId))
        .hasValueSatisfying(r -> assertThat(r).contains("cluster id 5"));
    ClusterService svc = ClusterService.newBuilder().setCluster(SHARED).setNamespace("testing").setName("other").build();
    assertThat(ingest.serviceValidator().rejection(layout.serviceKey(SHARED, "testing", "backend-svc"), svc))
        .hasValueSatisfying(r -> assertThat(r).contains("testing/other differs from the key's testing/backend-svc"));
    assertThat(ingest.rejected()).isEqualTo(4);
  }
}
