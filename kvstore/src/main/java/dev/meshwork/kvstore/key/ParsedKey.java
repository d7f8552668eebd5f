package dev.meshwork.kvstore.key;

/** A kvstore key parsed by {@link KeyLayout#parse(String)}: one record per key shape. */
public sealed interface ParsedKey {

  /** The cluster the key belongs to (the remote cluster for the cache layout). */
  String cluster();

  /** {@code meshwork/v1/cluster-config/<cluster>}. */
  record ClusterConfigKey(String cluster) implements ParsedKey {}

  /** {@code meshwork/v1/heartbeat/<cluster>}. */
  record HeartbeatKey(String cluster) implements ParsedKey {}

  /** {@code <synced-prefix><cluster>/<kind>}. */
  record SyncedKey(String cluster, Kind kind) implements ParsedKey {}

  /** A key under the state prefix: {@code <state-prefix><kind>/<cluster>/...}. */
  sealed interface StateKey extends ParsedKey {
    /** The kind of state. */
    Kind kind();
  }

  /** {@code <state-prefix>nodes/<cluster>/<node>}. */
  record NodeKey(String cluster, String node) implements StateKey {
    @Override
    public Kind kind() {
      return Kind.NODES;
    }
  }

  /** {@code <state-prefix>services/<cluster>/<namespace>/<name>}. */
  record ServiceKey(String cluster, String namespace, String name) implements StateKey {
    @Override
    public Kind kind() {
      return Kind.SERVICES;
    }
  }

  /** {@code <state-prefix>identities/<cluster>/<id>}. */
  record IdentityKey(String cluster, long id) implements StateKey {
    @Override
    public Kind kind() {
      return Kind.IDENTITIES;
    }
  }

  /** {@code <state-prefix>ipcache/<cluster>/<ip>}. */
  record IPCacheKey(String cluster, String ip) implements StateKey {
    @Override
    public Kind kind() {
      return Kind.IPCACHE;
    }
  }
}
