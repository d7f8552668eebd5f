package dev.meshwork.kvstore.key;

import dev.meshwork.kvstore.key.ParsedKey.ClusterConfigKey;
import dev.meshwork.kvstore.key.ParsedKey.HeartbeatKey;
import dev.meshwork.kvstore.key.ParsedKey.IPCacheKey;
import dev.meshwork.kvstore.key.ParsedKey.IdentityKey;
import dev.meshwork.kvstore.key.ParsedKey.NodeKey;
import dev.meshwork.kvstore.key.ParsedKey.ServiceKey;
import dev.meshwork.kvstore.key.ParsedKey.SyncedKey;
import java.util.Objects;

/**
 * The one place that builds and parses kvstore keys (ARCHITECTURE.md, "kvstore keys").
 *
 * <p>Two layouts share the same shape and differ only in their prefixes:
 *
 * <ul>
 *   <li>{@link #state()}: what an operator writes to its own etcd: {@code
 *       meshwork/v1/state/<kind>/<cluster>/...} with canaries at {@code
 *       meshwork/v1/synced/<cluster>/<kind>};
 *   <li>{@link #cache(String)}: kvstore-sync's mirror of a remote cluster in the local etcd:
 *       {@code meshwork/v1/cache/<remote>/<kind>/<remote>/...} with canaries at {@code
 *       meshwork/v1/cache/<remote>/synced/<remote>/<kind>}. A reader of the mirror uses the same
 *       code as a reader of the remote etcd, only with this layout.
 * </ul>
 *
 * <p>Cluster-config and heartbeat keys exist only at the root ({@link #clusterConfigKey},
 * {@link #heartbeatKey}). Every builder validates its segments; {@link #parse} rejects anything
 * else with an {@link InvalidKeyException} naming the key.
 */
public final class KeyLayout {
  /** The version root of every key. */
  public static final String ROOT = "meshwork/v1/";

  private static final String CLUSTER_CONFIG = ROOT + "cluster-config/";
  private static final String HEARTBEAT = ROOT + "heartbeat/";
  private static final String STATE = ROOT + "state/";
  private static final String SYNCED = ROOT + "synced/";
  private static final String CACHE = ROOT + "cache/";

  private static final KeyLayout STATE_LAYOUT = new KeyLayout(STATE, SYNCED, CLUSTER_CONFIG, HEARTBEAT);

  private final String statePrefix;
  private final String syncedPrefix;
  private final String clusterConfigPrefix;
  private final String heartbeatPrefix;

  private KeyLayout(String statePrefix, String syncedPrefix, String clusterConfigPrefix, String heartbeatPrefix) {
    this.statePrefix = statePrefix;
    this.syncedPrefix = syncedPrefix;
    this.clusterConfigPrefix = clusterConfigPrefix;
    this.heartbeatPrefix = heartbeatPrefix;
  }

  /** The layout an operator writes: {@code meshwork/v1/state/...} and {@code meshwork/v1/synced/...}. */
  public static KeyLayout state() {
    return STATE_LAYOUT;
  }

  /**
   * The layout of kvstore-sync's mirror of {@code remoteCluster}: {@code
   * meshwork/v1/cache/<remote>/...}.
   *
   * @throws IllegalArgumentException if {@code remoteCluster} is not a valid cluster name
   */
  public static KeyLayout cache(String remoteCluster) {
    String remote = ClusterNames.check(remoteCluster);
    String base = CACHE + remote + "/";
    // "cluster-config" and "heartbeat" are not kind segments, so they cannot collide with state
    // keys, and draining the one prefix removes everything of the remote.
    return new KeyLayout(base, base + "synced/", base + "cluster-config/", base + "heartbeat/");
  }

  /** The prefix of all state keys of this layout, e.g. {@code meshwork/v1/state/}. */
  public String statePrefix() {
    return statePrefix;
  }

  /** The prefix of all synced canaries of this layout, e.g. {@code meshwork/v1/synced/}. */
  public String syncedPrefix() {
    return syncedPrefix;
  }

  /**
   * Validates a cluster name (at most 32 characters of {@code [a-z0-9-]}, alphanumeric at both
   * ends).
   *
   * @return {@code cluster}
   * @throws IllegalArgumentException naming the cluster and the rule it breaks
   */
  public static String checkCluster(String cluster) {
    return ClusterNames.check(cluster);
  }

  // ---- builders ----

  /** {@code meshwork/v1/cluster-config/<cluster>}. */
  public static String clusterConfigKey(String cluster) {
    return CLUSTER_CONFIG + ClusterNames.check(cluster);
  }

  /** {@code meshwork/v1/heartbeat/<cluster>}. */
  public static String heartbeatKey(String cluster) {
    return HEARTBEAT + ClusterNames.check(cluster);
  }

  /**
   * Where this layout holds {@code cluster}'s ClusterConfig: {@link #clusterConfigKey(String)} in
   * the state layout, {@code meshwork/v1/cache/<remote>/cluster-config/<remote>} in a mirror.
   */
  public String configKeyOf(String cluster) {
    return clusterConfigPrefix + ClusterNames.check(cluster);
  }

  /**
   * Where this layout holds {@code cluster}'s heartbeat: {@link #heartbeatKey(String)} in the state
   * layout, {@code meshwork/v1/cache/<remote>/heartbeat/<remote>} in a mirror.
   */
  public String heartbeatKeyOf(String cluster) {
    return heartbeatPrefix + ClusterNames.check(cluster);
  }

  /** The prefix of one kind of every cluster's state, ending in {@code /}: {@code <state-prefix><kind>/}. */
  public String kindPrefix(Kind kind) {
    return statePrefix + Objects.requireNonNull(kind, "kind").segment() + "/";
  }

  /** The prefix of one kind of one cluster's state, ending in {@code /}: {@code <state-prefix><kind>/<cluster>/}. */
  public String prefix(Kind kind, String cluster) {
    Objects.requireNonNull(kind, "kind");
    return statePrefix + kind.segment() + "/" + ClusterNames.check(cluster) + "/";
  }

  /** The synced canary of one kind of one cluster: {@code <synced-prefix><cluster>/<kind>}. */
  public String syncedKey(String cluster, Kind kind) {
    Objects.requireNonNull(kind, "kind");
    return syncedPrefix + ClusterNames.check(cluster) + "/" + kind.segment();
  }

  /** {@code <state-prefix>nodes/<cluster>/<node>}. */
  public String nodeKey(String cluster, String node) {
    return prefix(Kind.NODES, cluster) + segment("node name", node);
  }

  /** {@code <state-prefix>services/<cluster>/<namespace>/<name>}. */
  public String serviceKey(String cluster, String namespace, String name) {
    return prefix(Kind.SERVICES, cluster)
        + segment("service namespace", namespace)
        + "/"
        + segment("service name", name);
  }

  /** {@code <state-prefix>identities/<cluster>/<id>}; {@code id} must be positive. */
  public String identityKey(String cluster, long id) {
    if (id <= 0 || id > 0xFFFF_FFFFL) {
      throw new IllegalArgumentException("identity id " + id + " is outside 1..4294967295");
    }
    return prefix(Kind.IDENTITIES, cluster) + id;
  }

  /** {@code <state-prefix>ipcache/<cluster>/<ip>}; {@code ip} is an IPv4 or IPv6 literal. */
  public String ipcacheKey(String cluster, String ip) {
    return prefix(Kind.IPCACHE, cluster) + ipSegment(ip);
  }

  /** The key of {@code parsed} in this layout (inverse of {@link #parse}). */
  public String key(ParsedKey parsed) {
    return switch (parsed) {
      case ClusterConfigKey k -> clusterConfigKey(k.cluster());
      case HeartbeatKey k -> heartbeatKey(k.cluster());
      case SyncedKey k -> syncedKey(k.cluster(), k.kind());
      case NodeKey k -> nodeKey(k.cluster(), k.node());
      case ServiceKey k -> serviceKey(k.cluster(), k.namespace(), k.name());
      case IdentityKey k -> identityKey(k.cluster(), k.id());
      case IPCacheKey k -> ipcacheKey(k.cluster(), k.ip());
    };
  }

  // ---- parsing ----

  /**
   * Parses a key of this layout (or a root cluster-config / heartbeat key).
   *
   * @throws InvalidKeyException naming the key and what is wrong with it
   */
  public ParsedKey parse(String key) {
    if (key == null) {
      throw new InvalidKeyException("null", "key is null");
    }
    try {
      if (key.startsWith(CLUSTER_CONFIG)) {
        return new ClusterConfigKey(single(key, key.substring(CLUSTER_CONFIG.length())));
      }
      if (key.startsWith(HEARTBEAT)) {
        return new HeartbeatKey(single(key, key.substring(HEARTBEAT.length())));
      }
      if (key.startsWith(syncedPrefix)) {
        String[] parts = split(key, key.substring(syncedPrefix.length()), 2, "<cluster>/<kind>");
        return new SyncedKey(ClusterNames.check(parts[0]), Kind.fromSegment(parts[1]));
      }
      if (key.startsWith(statePrefix)) {
        return parseState(key, key.substring(statePrefix.length()));
      }
    } catch (InvalidKeyException e) {
      throw e;
    } catch (IllegalArgumentException e) {
      throw new InvalidKeyException(key, e.getMessage(), e);
    }
    throw new InvalidKeyException(
        key,
        "expected a key under "
            + statePrefix
            + ", "
            + syncedPrefix
            + ", "
            + CLUSTER_CONFIG
            + " or "
            + HEARTBEAT);
  }

  private ParsedKey parseState(String key, String rest) {
    int slash = rest.indexOf('/');
    if (slash < 0) {
      throw new InvalidKeyException(key, "expected <kind>/<cluster>/... after " + statePrefix);
    }
    Kind kind = Kind.fromSegment(rest.substring(0, slash));
    String afterKind = rest.substring(slash + 1);
    return switch (kind) {
      case NODES -> {
        String[] p = split(key, afterKind, 2, "nodes/<cluster>/<node>");
        yield new NodeKey(ClusterNames.check(p[0]), segment("node name", p[1]));
      }
      case SERVICES -> {
        String[] p = split(key, afterKind, 3, "services/<cluster>/<namespace>/<name>");
        yield new ServiceKey(
            ClusterNames.check(p[0]),
            segment("service namespace", p[1]),
            segment("service name", p[2]));
      }
      case IDENTITIES -> {
        String[] p = split(key, afterKind, 2, "identities/<cluster>/<id>");
        long id;
        try {
          id = Long.parseLong(p[1]);
        } catch (NumberFormatException e) {
          throw new InvalidKeyException(key, "identity '" + p[1] + "' is not a number", e);
        }
        if (id <= 0 || id > 0xFFFF_FFFFL || !p[1].equals(Long.toString(id))) {
          throw new InvalidKeyException(key, "identity '" + p[1] + "' is not in 1..4294967295");
        }
        yield new IdentityKey(ClusterNames.check(p[0]), id);
      }
      case IPCACHE -> {
        String[] p = split(key, afterKind, 2, "ipcache/<cluster>/<ip>");
        yield new IPCacheKey(ClusterNames.check(p[0]), ipSegment(p[1]));
      }
    };
  }

  private static String single(String key, String rest) {
    if (rest.isEmpty() || rest.indexOf('/') >= 0) {
      throw new InvalidKeyException(key, "expected exactly one <cluster> segment, got '" + rest + "'");
    }
    return ClusterNames.check(rest);
  }

  private static String[] split(String key, String rest, int segments, String shape) {
    String[] parts = rest.split("/", -1);
    if (parts.length != segments) {
      throw new InvalidKeyException(
          key, "expected " + shape + " (" + segments + " segments), got " + parts.length);
    }
    return parts;
  }

  private static String segment(String what, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(what + " is empty");
    }
    if (value.indexOf('/') >= 0) {
      throw new IllegalArgumentException(what + " '" + value + "' contains '/'");
    }
    return value;
  }

  private static String ipSegment(String ip) {
    segment("ip", ip);
    boolean v4 = ip.indexOf(':') < 0;
    for (int i = 0; i < ip.length(); i++) {
      char c = ip.charAt(i);
      boolean ok =
          (c >= '0' && c <= '9')
              || c == '.'
              || (!v4 && (c == ':' || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
      if (!ok) {
        throw new IllegalArgumentException("ip '" + ip + "' is not an IPv4 or IPv6 literal");
      }
    }
    if (v4 && ip.split("\\.", -1).length != 4) {
      throw new IllegalArgumentException("ip '" + ip + "' is not an IPv4 literal");
    }
    return ip;
  }
}
