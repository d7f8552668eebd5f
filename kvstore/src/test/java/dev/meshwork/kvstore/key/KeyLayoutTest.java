package dev.meshwork.kvstore.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.key.ParsedKey.ClusterConfigKey;
import dev.meshwork.kvstore.key.ParsedKey.HeartbeatKey;
import dev.meshwork.kvstore.key.ParsedKey.IPCacheKey;
import dev.meshwork.kvstore.key.ParsedKey.IdentityKey;
import dev.meshwork.kvstore.key.ParsedKey.NodeKey;
import dev.meshwork.kvstore.key.ParsedKey.ServiceKey;
import dev.meshwork.kvstore.key.ParsedKey.SyncedKey;
import dev.meshwork.proto.v1.IPCacheEntry;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyLayoutTest {
  private final KeyLayout state = KeyLayout.state();

  @Test
  void buildsTheKeysOfTheArchitecture() {
    assertThat(KeyLayout.clusterConfigKey("k8s-shared-cluster"))
        .isEqualTo("meshwork/v1/cluster-config/k8s-shared-cluster");
    assertThat(KeyLayout.heartbeatKey("c1")).isEqualTo("meshwork/v1/heartbeat/c1");
    assertThat(state.nodeKey("c1", "node-a")).isEqualTo("meshwork/v1/state/nodes/c1/node-a");
    assertThat(state.serviceKey("c1", "testing", "backend-svc"))
        .isEqualTo("meshwork/v1/state/services/c1/testing/backend-svc");
    assertThat(state.identityKey("c1", (2L << 16) | 300))
        .isEqualTo("meshwork/v1/state/identities/c1/131372");
    assertThat(state.ipcacheKey("c1", "10.2.1.17")).isEqualTo("meshwork/v1/state/ipcache/c1/10.2.1.17");
    assertThat(state.ipcacheKey("c1", "fd00::1")).isEqualTo("meshwork/v1/state/ipcache/c1/fd00::1");
    assertThat(state.syncedKey("c1", Kind.IPCACHE)).isEqualTo("meshwork/v1/synced/c1/ipcache");
    assertThat(state.prefix(Kind.SERVICES, "c1")).isEqualTo("meshwork/v1/state/services/c1/");
  }

  @Test
  void parsesEveryKeyItBuilds() {
    List<ParsedKey> keys =
        List.of(
            new ClusterConfigKey("c1"),
            new HeartbeatKey("c1"),
            new SyncedKey("c1", Kind.NODES),
            new NodeKey("c1", "node-a"),
            new ServiceKey("c1", "testing", "backend-svc"),
            new IdentityKey("c1", 65836),
            new IPCacheKey("c1", "10.2.1.17"));
    for (ParsedKey parsed : keys) {
      assertThat(state.parse(state.key(parsed))).isEqualTo(parsed);
    }
  }

  @Test
  void cacheLayoutMirrorsTheStateLayoutUnderTheRemotesCachePrefix() {
    KeyLayout cache = KeyLayout.cache("k8s-shared-cluster");
    String key = cache.ipcacheKey("k8s-shared-cluster", "10.2.1.17");
    assertThat(key)
        .isEqualTo("meshwork/v1/cache/k8s-shared-cluster/ipcache/k8s-shared-cluster/10.2.1.17");
    assertThat(cache.parse(key)).isEqualTo(new IPCacheKey("k8s-shared-cluster", "10.2.1.17"));
    assertThat(cache.syncedKey("k8s-shared-cluster", Kind.NODES))
        .isEqualTo("meshwork/v1/cache/k8s-shared-cluster/synced/k8s-shared-cluster/nodes");
    assertThat(cache.parse(cache.syncedKey("k8s-shared-cluster", Kind.NODES)))
        .isEqualTo(new SyncedKey("k8s-shared-cluster", Kind.NODES));
    // A state-layout key is not a cache key and vice versa.
    assertThatThrownBy(() -> cache.parse(state.nodeKey("c1", "n")))
        .isInstanceOf(InvalidKeyException.class);
    assertThatThrownBy(() -> state.parse(key)).isInstanceOf(InvalidKeyException.class);
  }

  @Test
  void eachLayoutHoldsAClustersConfigAndHeartbeatInItsOwnPlace() {
    KeyLayout cache = KeyLayout.cache("k8s-shared-cluster");

    assertThat(state.configKeyOf("c1")).isEqualTo(KeyLayout.clusterConfigKey("c1")).isEqualTo("meshwork/v1/cluster-config/c1");
    assertThat(state.heartbeatKeyOf("c1")).isEqualTo(KeyLayout.heartbeatKey("c1")).isEqualTo("meshwork/v1/heartbeat/c1");
    assertThat(cache.configKeyOf("k8s-shared-cluster"))
        .isEqualTo("meshwork/v1/cache/k8s-shared-cluster/cluster-config/k8s-shared-cluster");
    assertThat(cache.heartbeatKeyOf("k8s-shared-cluster"))
        .isEqualTo("meshwork/v1/cache/k8s-shared-cluster/heartbeat/k8s-shared-cluster");
    assertThatThrownBy(() -> cache.configKeyOf("Not_A_Cluster")).hasMessageContaining("cluster name");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "UPPER", "-leading", "trailing-", "under_score", "a-name-that-is-much-longer-than-32"})
  void rejectsBadClusterNamesNamingTheName(String name) {
    assertThatThrownBy(() -> state.nodeKey(name, "n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cluster name");
    assertThatThrownBy(() -> KeyLayout.cache(name)).hasMessageContaining("cluster name");
  }

  @Test
  void acceptsAClusterNameOfExactly32Characters() {
    String name = "a".repeat(32);
    assertThat(state.parse(state.nodeKey(name, "n")).cluster()).isEqualTo(name);
  }

  @Test
  void rejectsMalformedKeysNamingTheKey() {
    assertThatThrownBy(() -> state.parse("cilium/state/nodes/v1/c1/n"))
        .isInstanceOf(InvalidKeyException.class)
        .hasMessageContaining("'cilium/state/nodes/v1/c1/n'");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/pods/c1/x"))
        .hasMessageContaining("meshwork/v1/state/pods/c1/x")
        .hasMessageContaining("unknown kind 'pods'");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/services/c1/only-namespace"))
        .hasMessageContaining("services/<cluster>/<namespace>/<name>");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/identities/c1/abc"))
        .hasMessageContaining("identity 'abc' is not a number");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/identities/c1/0"))
        .hasMessageContaining("not in 1..");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/ipcache/c1/not-an-ip"))
        .hasMessageContaining("not an IPv4 or IPv6 literal");
    assertThatThrownBy(() -> state.parse("meshwork/v1/state/nodes/Bad/n"))
        .hasMessageContaining("meshwork/v1/state/nodes/Bad/n")
        .hasMessageContaining("cluster name");
    assertThatThrownBy(() -> state.parse("meshwork/v1/heartbeat/c1/extra"))
        .hasMessageContaining("exactly one <cluster> segment");
    assertThatThrownBy(() -> state.parse("meshwork/v1/synced/c1/pods"))
        .hasMessageContaining("unknown kind 'pods'");
  }

  @Test
  void rejectsSegmentsThatWouldChangeTheKeyShape() {
    assertThatThrownBy(() -> state.nodeKey("c1", "a/b")).hasMessageContaining("node name 'a/b' contains '/'");
    assertThatThrownBy(() -> state.serviceKey("c1", "", "svc")).hasMessageContaining("service namespace is empty");
    assertThatThrownBy(() -> state.identityKey("c1", 0)).hasMessageContaining("identity id 0");
  }

  @Test
  void kindKnowsItsSegmentAndMessageType() {
    assertThat(Kind.fromSegment("ipcache")).isEqualTo(Kind.IPCACHE);
    assertThat(Kind.IPCACHE.messageType()).isEqualTo(IPCacheEntry.class);
    assertThatThrownBy(() -> Kind.fromSegment("pods"))
        .hasMessage("unknown kind 'pods'; known kinds: nodes, services, identities, ipcache");
  }

  @Test
  void identityRangeFollowsTheClusterId() {
    ClusterId two = ClusterId.of(2);
    long id = IdentityRange.identity(two, 300);
    assertThat(id).isEqualTo(131372);
    assertThat(IdentityRange.belongsTo(id, two)).isTrue();
    assertThat(IdentityRange.belongsTo(id, ClusterId.of(3))).isFalse();
    assertThat(IdentityRange.belongsTo((2L << 16) | 5, two)).as("reserved range").isFalse();
    assertThatThrownBy(() -> IdentityRange.identity(two, 255)).hasMessageContaining("local identity 255");
    assertThatThrownBy(() -> ClusterId.of(256)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> ClusterId.of(0)).isInstanceOf(IllegalArgumentException.class);
  }
}
