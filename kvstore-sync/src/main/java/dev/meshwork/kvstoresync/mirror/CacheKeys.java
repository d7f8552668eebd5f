package dev.meshwork.kvstoresync.mirror;

import dev.meshwork.kvstore.key.KeyLayout;

/**
 * The keys of a remote's mirror that {@link KeyLayout#cache(String)} does not build: the mirrored
 * cluster config and heartbeat, and the whole mirror prefix (for draining).
 *
 * <p>They sit beside the kinds in the remote's cache prefix, so draining one prefix removes all of
 * a remote: {@code meshwork/v1/cache/<remote>/cluster-config/<remote>} and {@code
 * meshwork/v1/cache/<remote>/heartbeat/<remote>}. ("cluster-config" and "heartbeat" are not kind
 * segments, so they cannot collide with state keys.) These belong in {@code KeyLayout}.
 */
public final class CacheKeys {
  private CacheKeys() {}

  /** {@code meshwork/v1/cache/<remote>/}: everything mirrored from {@code remote}. */
  public static String mirrorPrefix(String remote) {
    return KeyLayout.cache(remote).statePrefix();
  }

  /** {@code meshwork/v1/cache/<remote>/cluster-config/<remote>}: the remote's ClusterConfig. */
  public static String clusterConfigKey(String remote) {
    return mirrorPrefix(remote) + "cluster-config/" + remote;
  }

  /** {@code meshwork/v1/cache/<remote>/heartbeat/<remote>}: the remote's last heartbeat, as written there. */
  public static String heartbeatKey(String remote) {
    return mirrorPrefix(remote) + "heartbeat/" + remote;
  }
}
