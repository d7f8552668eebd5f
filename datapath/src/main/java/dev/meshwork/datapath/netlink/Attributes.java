package dev.meshwork.datapath.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The type-length-value attributes of a netlink message (or of a nested attribute), by type. A
 * truncated attribute ends the list, as the kernel's own parser does. The nested flag bits of the
 * type ({@code NLA_F_NESTED}, {@code NLA_F_NET_BYTEORDER}) are ignored.
 */
public final class Attributes {
  private static final int TYPE_MASK = 0x3fff;

  private final Map<Integer, ByteBuffer> values;

  private Attributes(Map<Integer, ByteBuffer> values) {
    this.values = values;
  }

  /** The attributes in {@code buffer} from {@code offset} to its limit. */
  public static Attributes parse(ByteBuffer buffer, int offset) {
    ByteBuffer in = buffer.duplicate().order(ByteOrder.nativeOrder());
    Map<Integer, ByteBuffer> values = new HashMap<>();
    int position = offset;
    while (position + NetlinkRequest.ATTRIBUTE_HEADER_LENGTH <= in.limit()) {
      int length = Short.toUnsignedInt(in.getShort(position));
      int type = Short.toUnsignedInt(in.getShort(position + 2)) & TYPE_MASK;
      if (length < NetlinkRequest.ATTRIBUTE_HEADER_LENGTH || position + length > in.limit()) {
        break;
      }
      int valueLength = length - NetlinkRequest.ATTRIBUTE_HEADER_LENGTH;
      values.putIfAbsent(type, in.slice(position + NetlinkRequest.ATTRIBUTE_HEADER_LENGTH, valueLength).order(ByteOrder.nativeOrder()));
      position += NetlinkRequest.align(length);
    }
    return new Attributes(values);
  }

  public boolean has(int type) {
    return values.containsKey(type);
  }

  public Optional<byte[]> bytes(int type) {
    return Optional.ofNullable(values.get(type)).map(v -> {
      byte[] copy = new byte[v.remaining()];
      v.duplicate().get(copy);
      return copy;
    });
  }

  /** A string attribute without its terminating NUL. */
  public Optional<String> string(int type) {
    return bytes(type).map(b -> {
      int end = 0;
      while (end < b.length && b[end] != 0) {
        end++;
      }
      return new String(b, 0, end, StandardCharsets.UTF_8);
    });
  }

  public Optional<Integer> u32(int type) {
    ByteBuffer v = values.get(type);
    return v == null || v.remaining() < 4 ? Optional.empty() : Optional.of(v.getInt(0));
  }

  /** An IPv4 address in network order as a {@link dev.meshwork.datapath.Ipv4} int. */
  public Optional<Integer> ipv4(int type) {
    ByteBuffer v = values.get(type);
    return v == null || v.remaining() != 4 ? Optional.empty() : Optional.of(v.duplicate().order(ByteOrder.BIG_ENDIAN).getInt(0));
  }

  public Optional<Attributes> nested(int type) {
    return Optional.ofNullable(values.get(type)).map(v -> parse(v, 0));
  }
}
