package dev.meshwork.kvstore.codec;

import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Heartbeat;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.proto.v1.SyncedCanary;

/** The codec of every message stored in the kvstore (see ARCHITECTURE.md, kvstore keys). */
public final class Codecs {
  /** {@code meshwork/v1/cluster-config/<cluster>}. */
  public static final Codec<ClusterConfig> CLUSTER_CONFIG =
      Codec.of(ClusterConfig.class, ClusterConfig.parser());

  /** {@code meshwork/v1/heartbeat/<cluster>}. */
  public static final Codec<Heartbeat> HEARTBEAT = Codec.of(Heartbeat.class, Heartbeat.parser());

  /** {@code meshwork/v1/synced/<cluster>/<kind>}. */
  public static final Codec<SyncedCanary> SYNCED_CANARY =
      Codec.of(SyncedCanary.class, SyncedCanary.parser());

  /** {@code meshwork/v1/state/nodes/<cluster>/<node>}. */
  public static final Codec<Node> NODE = Codec.of(Node.class, Node.parser());

  /** {@code meshwork/v1/state/services/<cluster>/<namespace>/<name>}. */
  public static final Codec<ClusterService> SERVICE =
      Codec.of(ClusterService.class, ClusterService.parser());

  /** {@code meshwork/v1/state/identities/<cluster>/<id>}. */
  public static final Codec<Identity> IDENTITY = Codec.of(Identity.class, Identity.parser());

  /** {@code meshwork/v1/state/ipcache/<cluster>/<ip>}. */
  public static final Codec<IPCacheEntry> IPCACHE =
      Codec.of(IPCacheEntry.class, IPCacheEntry.parser());

  private Codecs() {}
}
