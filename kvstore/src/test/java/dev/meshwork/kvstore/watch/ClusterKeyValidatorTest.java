package dev.meshwork.kvstore.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import org.junit.jupiter.api.Test;

class ClusterKeyValidatorTest {
  private final KeyLayout layout = KeyLayout.state();
  private final ClusterId two = ClusterId.of(2);

  private ClusterKeyValidator validator(Kind kind) {
    return new ClusterKeyValidator(layout, kind, "shared", two);
  }

  @Test
  void acceptsStateThatBelongsToTheCluster() {
    Node node = Node.newBuilder().setCluster("shared").setName("n1").setClusterId(2).build();
    assertThat(validator(Kind.NODES).rejection(layout.nodeKey("shared", "n1"), node)).isEmpty();
    long id = (2L << 16) | 300;
    Identity identity = Identity.newBuilder().setId((int) id).setCluster("shared").build();
    assertThat(validator(Kind.IDENTITIES).rejection(layout.identityKey("shared", id), identity)).isEmpty();
    IPCacheEntry entry = IPCacheEntry.newBuilder().setIp("10.2.1.214").setIdentity((int) id).setCluster("shared").build();
    assertThat(validator(Kind.IPCACHE).rejection(layout.ipcacheKey("shared", "10.2.1.214"), entry)).isEmpty();
    ClusterService service =
        ClusterService.newBuilder().setCluster("shared").setClusterId(2).setNamespace("testing").setName("backend-svc").build();
    assertThat(validator(Kind.SERVICES).rejection(layout.serviceKey("shared", "testing", "backend-svc"), service))
        .isEmpty();
  }

  @Test
  void rejectsAKeyOfAnotherCluster() {
    Node node = Node.newBuilder().setCluster("test").setName("n1").setClusterId(2).build();
    assertThat(validator(Kind.NODES).rejection(layout.nodeKey("test", "n1"), node))
        .hasValue("key belongs to cluster 'test', expected 'shared'");
  }

  @Test
  void rejectsAValueWhoseClusterFieldDisagreesWithTheKey() {
    Node node = Node.newBuilder().setCluster("test").setName("n1").setClusterId(2).build();
    assertThat(validator(Kind.NODES).rejection(layout.nodeKey("shared", "n1"), node))
        .hasValue("cluster field 'test' differs from the key's 'shared'");
  }

  @Test
  void rejectsAnIdentityOutsideTheClustersRange() {
    long foreign = (3L << 16) | 300;
    Identity identity = Identity.newBuilder().setId((int) foreign).setCluster("shared").build();
    assertThat(validator(Kind.IDENTITIES).rejection(layout.identityKey("shared", foreign), identity))
        .hasValue("identity 196908 is outside the range of cluster id 2");
    IPCacheEntry entry = IPCacheEntry.newBuilder().setIp("10.2.1.214").setIdentity((int) foreign).setCluster("shared").build();
    assertThat(validator(Kind.IPCACHE).rejection(layout.ipcacheKey("shared", "10.2.1.214"), entry))
        .hasValue("identity 196908 is outside the range of cluster id 2");
  }

  @Test
  void rejectsKeysOfAnotherKindOrLayout() {
    Node node = Node.newBuilder().setCluster("shared").setName("n1").setClusterId(2).build();
    assertThat(validator(Kind.IPCACHE).rejection(layout.nodeKey("shared", "n1"), node)).hasValue("not a key of kind ipcache");
    assertThat(validator(Kind.NODES).rejection("meshwork/v1/state/nodes/shared/a/b", node)).get().asString()
        .contains("invalid kvstore key");
  }
}
