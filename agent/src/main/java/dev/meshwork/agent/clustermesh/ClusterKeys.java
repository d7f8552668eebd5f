package dev.meshwork.agent.clustermesh;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;

/**
 * Where one cluster's state is read in the etcd the agent is connected to: its cluster-config
 * and heartbeat keys and the layout of its state and synced canaries.
 *
 * <ul>
 *   <li>{@link #direct}: the cluster's own etcd, as its operator writes it ({@code
 *       meshwork/v1/cluster-config/<c>}, {@code meshwork/v1/state/<kind>/<c>/...}, canaries
 *       {@code meshwork/v1/synced/<c>/<kind>}).
 *   <li>{@link #cache}: kvstore-sync's mirror of a remote in the local etcd ({@code
 *       meshwork/v1/cache/<r>/cluster-config/<r>}, {@code meshwork/v1/cache/<r>/heartbeat/<r>},
 *       {@code meshwork/v1/cache/<r>/<kind>/<r>/...}, canaries {@code
 *       meshwork/v1/cache/<r>/synced/<r>/<kind>}; docs/kvstore-sync.md).
 * </ul>
 *
 * @param cache whether this is a kvstore-sync mirror
 */
record ClusterKeys(String clusterConfigKey, String heartbeatKey, KeyLayout layout, boolean cache) {

  static ClusterKeys direct(String cluster) {
    return of(KeyLayout.state(), cluster, false);
  }

  static ClusterKeys cache(String remote) {
    return of(KeyLayout.cache(remote), remote, true);
  }

  private static ClusterKeys of(KeyLayout layout, String cluster, boolean cache) {
    return new ClusterKeys(layout.configKeyOf(cluster), layout.heartbeatKeyOf(cluster), layout, cache);
  }

  /**
   * The prefix watched for {@code kind}: the whole kind, not only the cluster's folder, so that
   * keys of other clusters found there are seen, rejected and counted rather than ignored.
   */
  String kindPrefix(Kind kind) {
    return layout.kindPrefix(kind);
  }
}
