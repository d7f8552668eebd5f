package dev.meshwork.kvstore.key;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The kinds of per-cluster state under {@code meshwork/v1/state/<kind>/<cluster>/...}. */
public enum Kind {
  /** {@code nodes/<cluster>/<node>}, value {@code Node}. */
  NODES("nodes", Codecs.NODE),
  /** {@code services/<cluster>/<namespace>/<name>}, value {@code ClusterService}. */
  SERVICES("services", Codecs.SERVICE),
  /** {@code identities/<cluster>/<numeric-id>}, value {@code Identity}. */
  IDENTITIES("identities", Codecs.IDENTITY),
  /** {@code ipcache/<cluster>/<ip>}, value {@code IPCacheEntry}. */
  IPCACHE("ipcache", Codecs.IPCACHE);

  private final String segment;
  private final Codec<? extends Message> codec;

  Kind(String segment, Codec<? extends Message> codec) {
    this.segment = segment;
    this.codec = codec;
  }

  /** The key segment, e.g. {@code "ipcache"}; also the {@code kind} of the synced canary. */
  public String segment() {
    return segment;
  }

  /** The codec of the values of this kind; the typed constants are in {@link Codecs}. */
  public Codec<? extends Message> codec() {
    return codec;
  }

  /** The protobuf message type of the values of this kind. */
  public Class<? extends Message> messageType() {
    return codec.type();
  }

  /**
   * The kind whose segment is {@code segment}.
   *
   * @throws IllegalArgumentException naming the segment and the known kinds
   */
  public static Kind fromSegment(String segment) {
    for (Kind kind : values()) {
      if (kind.segment.equals(segment)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "unknown kind '"
            + segment
            + "'; known kinds: "
            + Arrays.stream(values()).map(Kind::segment).collect(Collectors.joining(", ")));
  }
}
