package dev.meshwork.agent.clustermesh;

import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeRecord;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.kvstore.key.IdentityRange;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.ParsedKey;
import dev.meshwork.kvstore.watch.KeyValidator;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Validates one cluster's kvstore state and feeds it into the merged tables. A key must belong
 * to the cluster it was read from (key segment and value field), identities must lie in that
 * cluster's range, and node pod CIDRs must not overlap another cluster's. Rejected keys are
 * counted and reported, never applied; what was applied before stays.
 */
final class ClusterStateIngest {
  private final String cluster;
  private final ClusterId clusterId;
  private final NodeTable nodes;
  private final ServiceTable services;
  private final IdentityTable identities;
  private final IpCacheTable ipcache;
  private final Consumer<String> onRejected;
  private final AtomicLong rejected = new AtomicLong();
  private final KeyLayout layout;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClusterStateIngest.class);
  private final java.util.function.BiConsumer<String, String> evictions;

  private final boolean applyServices;

  /**
   * @param layout where the keys were read (the cluster's own etcd, or a kvstore-sync mirror)
   * @param applyServices false when the cluster's services come from elsewhere (the local
   *     cluster's, from its Kubernetes API): its service keys are still validated, not applied
   */
  ClusterStateIngest(
      String cluster,
      ClusterId clusterId,
      KeyLayout layout,
      boolean applyServices,
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      IpCacheTable ipcache,
      Consumer<String> onRejected,
      java.util.function.BiConsumer<String, String> evictions) {
    this.evictions = evictions;
    this.layout = layout;
    this.applyServices = applyServices;
    this.cluster = cluster;
    this.clusterId = clusterId;
    this.nodes = nodes;
    this.services = services;
    this.identities = identities;
    this.ipcache = ipcache;
    this.onRejected = onRejected;
  }

  long rejected() {
    return rejected.get();
  }

  /** Counts a key of this cluster that was applied but later had to be removed. */
  void evicted(String why) {
    rejected.incrementAndGet();
    onRejected.accept(why);
  }

  /** Removes everything this cluster contributed. */
  void drain() {
    nodes.drain(cluster);
    if (applyServices) services.drain(cluster);
    identities.drain(cluster);
    ipcache.drain(cluster);
  }

  private <T> KeyValidator<T> counting(KeyValidator<T> check) {
    return (key, value) -> {
      Optional<String> why;
      try {
        why = check.rejection(key, value);
      } catch (IllegalArgumentException e) {
        why = Optional.of(e.getMessage());
      }
      why.ifPresent(reason -> {
        rejected.incrementAndGet();
        onRejected.accept("rejected key " + key + ": " + reason);
      });
      return why;
    };
  }

  private Optional<String> foreign(String what, String keyCluster, String valueCluster) {
    if (!keyCluster.equals(cluster)) {
      return Optional.of("key belongs to cluster '" + keyCluster + "', not to the connected cluster '" + cluster + "'");
    }
    if (!valueCluster.equals(cluster)) {
      return Optional.of(what + " says cluster '" + valueCluster + "', but it was read from cluster '" + cluster + "'");
    }
    return Optional.empty();
  }

  private ParsedKey parse(String key) {
    try {
      return layout.parse(key);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("unparseable key: " + e.getMessage(), e);
    }
  }

  // ---- nodes ----

  KeyValidator<Node> nodeValidator() {
    return counting((key, node) -> {
      if (!(parse(key) instanceof ParsedKey.NodeKey k)) return Optional.of("not a node key");
      Optional<String> foreign = foreign("node", k.cluster(), node.getCluster());
      if (foreign.isPresent()) return foreign;
      if (!k.node().equals(node.getName())) {
        return Optional.of("node name '" + node.getName() + "' differs from the key's '" + k.node() + "'");
      }
      if (node.getClusterId() != 0 && node.getClusterId() != clusterId.value()) {
        return Optional.of("node says cluster id " + node.getClusterId() + ", the cluster's id is " + clusterId.value());
      }
      NodeRecord record = ClusterRecords.node(node);
      return nodes.overlapWithOtherCluster(record);
    });
  }

  WatchHandler<Node> nodeHandler(Runnable synced) {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, Node value) {
        for (NodeRecord evicted : nodes.upsert(ClusterRecords.node(value))) {
          String why = "rejected node " + evicted.cluster() + "/" + evicted.name() + " (removed): its pod CIDRs "
              + evicted.podCidrs() + " overlap node " + cluster + "/" + value.getName() + " of the local cluster";
          log.warn(why);
          evictions.accept(evicted.cluster(), why);
        }
      }

      @Override
      public void onDelete(String key) {
        if (parse(key) instanceof ParsedKey.NodeKey k) nodes.delete(cluster, k.node());
      }

      @Override
      public void onSynced() {
        synced.run();
      }
    };
  }

  // ---- services ----

  KeyValidator<ClusterService> serviceValidator() {
    return counting((key, s) -> {
      if (!(parse(key) instanceof ParsedKey.ServiceKey k)) return Optional.of("not a service key");
      Optional<String> foreign = foreign("service", k.cluster(), s.getCluster());
      if (foreign.isPresent()) return foreign;
      if (!k.namespace().equals(s.getNamespace()) || !k.name().equals(s.getName())) {
        return Optional.of("service " + s.getNamespace() + "/" + s.getName() + " differs from the key's " + k.namespace() + "/" + k.name());
      }
      if (s.getClusterId() != 0 && s.getClusterId() != clusterId.value()) {
        return Optional.of("service says cluster id " + s.getClusterId() + ", the cluster's id is " + clusterId.value());
      }
      ClusterRecords.service(s);
      return Optional.empty();
    });
  }

  WatchHandler<ClusterService> serviceHandler(Runnable synced) {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, ClusterService value) {
        if (applyServices) services.upsert(ClusterRecords.service(value));
      }

      @Override
      public void onDelete(String key) {
        if (applyServices && parse(key) instanceof ParsedKey.ServiceKey k) {
          services.delete(cluster, k.namespace(), k.name());
        }
      }

      @Override
      public void onSynced() {
        synced.run();
      }
    };
  }

  // ---- identities ----

  KeyValidator<Identity> identityValidator() {
    return counting((key, id) -> {
      if (!(parse(key) instanceof ParsedKey.IdentityKey k)) return Optional.of("not an identity key");
      Optional<String> foreign = foreign("identity", k.cluster(), id.getCluster());
      if (foreign.isPresent()) return foreign;
      if (k.id() != (id.getId() & 0xffffffffL)) {
        return Optional.of("identity " + id.getId() + " differs from the key's " + k.id());
      }
      if (!IdentityRange.belongsTo(id.getId() & 0xffffffffL, clusterId)) {
        return Optional.of("identity " + Integer.toUnsignedString(id.getId()) + " is outside the range of cluster id " + clusterId.value());
      }
      return Optional.empty();
    });
  }

  WatchHandler<Identity> identityHandler(Runnable synced) {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, Identity value) {
        identities.upsert(cluster, value.getId(), value.getLabelsList());
      }

      @Override
      public void onDelete(String key) {
        if (parse(key) instanceof ParsedKey.IdentityKey k) identities.delete(cluster, (int) k.id());
      }

      @Override
      public void onSynced() {
        synced.run();
      }
    };
  }

  // ---- ipcache ----

  KeyValidator<IPCacheEntry> ipcacheValidator() {
    return counting((key, e) -> {
      if (!(parse(key) instanceof ParsedKey.IPCacheKey k)) return Optional.of("not an ipcache key");
      Optional<String> foreign = foreign("ipcache entry", k.cluster(), e.getCluster());
      if (foreign.isPresent()) return foreign;
      if (!k.ip().equals(e.getIp())) {
        return Optional.of("ipcache entry for " + e.getIp() + " differs from the key's " + k.ip());
      }
      if (e.getIp().indexOf(':') >= 0) {
        return Optional.of("IPv6 address " + e.getIp() + " is not supported by this datapath");
      }
      Ipv4.parse(e.getIp());
      if (!e.getHostIp().isEmpty()) Ipv4.parse(e.getHostIp());
      long identity = e.getIdentity() & 0xffffffffL;
      if (identity >= 256 && !IdentityRange.belongsTo(identity, clusterId)) {
        return Optional.of("identity " + identity + " of " + e.getIp() + " is outside the range of cluster id " + clusterId.value());
      }
      return Optional.empty();
    });
  }

  WatchHandler<IPCacheEntry> ipcacheHandler(Runnable synced) {
    return new WatchHandler<>() {
      @Override
      public void onUpsert(String key, IPCacheEntry e) {
        ipcache.upsert(
            cluster, Ipv4.parse(e.getIp()), e.getIdentity(), e.getHostIp().isEmpty() ? 0 : Ipv4.parse(e.getHostIp()));
      }

      @Override
      public void onDelete(String key) {
        if (parse(key) instanceof ParsedKey.IPCacheKey k) ipcache.delete(cluster, Ipv4.parse(k.ip()));
      }

      @Override
      public void onSynced() {
        synced.run();
      }
    };
  }
}
