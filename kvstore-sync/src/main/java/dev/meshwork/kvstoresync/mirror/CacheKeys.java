package dev.meshwork.kvstoresync.mirror;

import dev.meshwork.kvstore.key.KeyLayout;

/**
 * The keys of a remote's mirror, named for the mirror's use: the whole prefix (for draining), the
 * mirrored cluster config and heartbeat. All of them come from {@link KeyLayout#cache(String)}.
 */
public final class CacheKeys {
  private CacheKeys() {}

  /** {@code meshwork/v1/cache/<remote>/}: everything mirrored from {@code remote}. */
  public static String mirrorPrefix(String remote) {
    return KeyLayout.cache(remote).statePrefix();
  }

  /** {@code meshwork/v1/cache/<remote>/cluster-config/<remote>}: the remote's ClusterConfig. */
  public static String clusterConfigKey(String remote) {
    return KeyLayout.cache(remote).configKeyOf(remote);
  }

  /** {@code meshwork/v1/cache/<remote>/heartbeat/<remote>}: the remote's last heartbeat, as written there. */
  public static String heartbeatKey(String remote) {
    return KeyLayout.cache(remote).heartbeatKeyOf(remote);
  }
}
