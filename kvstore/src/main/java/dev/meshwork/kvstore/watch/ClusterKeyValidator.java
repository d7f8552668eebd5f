package dev.meshwork.kvstore.watch;

import com.google.protobuf.Message;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.kvstore.key.IdentityRange;
import dev.meshwork.kvstore.key.InvalidKeyException;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.key.ParsedKey;
import dev.meshwork.kvstore.key.ParsedKey.IPCacheKey;
import dev.meshwork.kvstore.key.ParsedKey.IdentityKey;
import dev.meshwork.kvstore.key.ParsedKey.NodeKey;
import dev.meshwork.kvstore.key.ParsedKey.ServiceKey;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import java.util.Objects;
import java.util.Optional;

/**
 * Rejects state that does not belong to the cluster a reader is connected to (ARCHITECTURE.md,
 * "kvstore keys"): the key must parse in the layout, be of the expected kind and carry the
 * cluster's name; the value's cluster fields must agree with the key; identities must lie in the
 * cluster's range. A compromised or misconfigured remote thus cannot inject another cluster's
 * nodes, services, identities or addresses.
 */
public final class ClusterKeyValidator implements KeyValidator<Message> {
  private final KeyLayout layout;
  private final Kind kind;
  private final String cluster;
  private final ClusterId clusterId;

  /**
   * A validator for {@code kind} state of {@code cluster} (whose id is {@code clusterId}) read in
   * {@code layout}.
   */
  public ClusterKeyValidator(KeyLayout layout, Kind kind, String cluster, ClusterId clusterId) {
    this.layout = Objects.requireNonNull(layout, "layout");
    this.kind = Objects.requireNonNull(kind, "kind");
    this.cluster = KeyLayout.checkCluster(cluster);
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
  }

  @Override
  public Optional<String> rejection(String key, Message value) {
    ParsedKey parsed;
    try {
      parsed = layout.parse(key);
    } catch (InvalidKeyException e) {
      return Optional.of(e.getMessage());
    }
    if (!(parsed instanceof ParsedKey.StateKey state) || state.kind() != kind) {
      return Optional.of("not a key of kind " + kind.segment());
    }
    if (!parsed.cluster().equals(cluster)) {
      return Optional.of("key belongs to cluster '" + parsed.cluster() + "', expected '" + cluster + "'");
    }
    return switch (parsed) {
      case NodeKey k when value instanceof Node n -> first(
          field("cluster", n.getCluster(), cluster),
          field("name", n.getName(), k.node()),
          id("cluster_id", n.getClusterId()));
      case ServiceKey k when value instanceof ClusterService s -> first(
          field("cluster", s.getCluster(), cluster),
          field("namespace", s.getNamespace(), k.namespace()),
          field("name", s.getName(), k.name()),
          id("cluster_id", s.getClusterId()));
      case IdentityKey k when value instanceof Identity i -> first(
          field("cluster", i.getCluster(), cluster),
          Integer.toUnsignedLong(i.getId()) == k.id()
              ? Optional.empty()
              : Optional.of("id field " + Integer.toUnsignedLong(i.getId()) + " differs from the key's " + k.id()),
          IdentityRange.belongsTo(k.id(), clusterId)
              ? Optional.empty()
              : Optional.of("identity " + k.id() + " is outside the range of cluster id " + clusterId.value()));
      case IPCacheKey k when value instanceof IPCacheEntry e -> first(
          field("cluster", e.getCluster(), cluster),
          field("ip", e.getIp(), k.ip()),
          Integer.toUnsignedLong(e.getIdentity()) < IdentityRange.MIN_LOCAL
                  || IdentityRange.belongsTo(Integer.toUnsignedLong(e.getIdentity()), clusterId)
              ? Optional.empty()
              : Optional.of("identity " + Integer.toUnsignedLong(e.getIdentity())
                  + " is outside the range of cluster id " + clusterId.value()));
      default -> Optional.of("value " + value.getClass().getSimpleName() + " does not fit a " + kind.segment() + " key");
    };
  }

  private static Optional<String> field(String name, String actual, String expected) {
    return actual.equals(expected)
        ? Optional.empty()
        : Optional.of(name + " field '" + actual + "' differs from the key's '" + expected + "'");
  }

  private Optional<String> id(String name, int actual) {
    return actual == clusterId.value()
        ? Optional.empty()
        : Optional.of(name + " field " + actual + " is not the cluster's id " + clusterId.value());
  }

  @SafeVarargs
  private static Optional<String> first(Optional<String>... checks) {
    for (Optional<String> check : checks) {
      if (check.isPresent()) {
        return check;
      }
    }
    return Optional.empty();
  }
}
