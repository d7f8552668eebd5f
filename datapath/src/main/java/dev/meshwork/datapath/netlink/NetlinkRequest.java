package dev.meshwork.datapath.netlink;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One netlink request as bytes: the {@code nlmsghdr}, the family's fixed header (for rtnetlink
 * {@code ifinfomsg}, {@code ifaddrmsg}, {@code rtmsg} or {@code ndmsg}) and type-length-value
 * attributes, nested ones included, each padded to 4 bytes. Integers are in the host's byte order
 * as netlink wants them; IPv4 addresses in network order. Length and sequence number are filled in
 * by {@link #toBytes}.
 */
public final class NetlinkRequest {
  static final int HEADER_LENGTH = 16;
  static final int ATTRIBUTE_HEADER_LENGTH = 4;

  private final int type;
  private final int flags;
  private final Bytes body = new Bytes();
  private final Deque<Integer> openNests = new ArrayDeque<>();

  public NetlinkRequest(int type, int flags) {
    this.type = type;
    this.flags = flags;
  }

  // The family header: fixed-size fields written in order.

  public NetlinkRequest u8(int value) {
    body.write(value);
    return this;
  }

  public NetlinkRequest u16(int value) {
    body.writeInt(value, 2);
    return this;
  }

  public NetlinkRequest u32(int value) {
    body.writeInt(value, 4);
    return this;
  }

  // Attributes.

  public NetlinkRequest attribute(int attributeType, byte[] value) {
    body.writeInt(ATTRIBUTE_HEADER_LENGTH + value.length, 2);
    body.writeInt(attributeType, 2);
    body.writeBytes(value);
    body.pad();
    return this;
  }

  public NetlinkRequest attributeU32(int attributeType, int value) {
    return attribute(attributeType, ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(value).array());
  }

  /** A NUL-terminated string, as the kernel expects for names and kinds. */
  public NetlinkRequest attributeString(int attributeType, String value) {
    byte[] text = value.getBytes(StandardCharsets.UTF_8);
    byte[] withNul = new byte[text.length + 1];
    System.arraycopy(text, 0, withNul, 0, text.length);
    return attribute(attributeType, withNul);
  }

  /** An IPv4 address ({@link dev.meshwork.datapath.Ipv4} int) in network byte order. */
  public NetlinkRequest attributeIpv4(int attributeType, int address) {
    return attribute(attributeType, ByteBuffer.allocate(4).order(ByteOrder.BIG_ENDIAN).putInt(address).array());
  }

  /** Starts a nested attribute; the attributes up to {@link #endNested} are its value. */
  public NetlinkRequest beginNested(int attributeType) {
    openNests.push(body.size());
    body.writeInt(0, 2); // length, filled in by endNested
    body.writeInt(attributeType, 2);
    return this;
  }

  public NetlinkRequest endNested() {
    if (openNests.isEmpty()) {
      throw new IllegalStateException("endNested without beginNested");
    }
    int start = openNests.pop();
    body.patchU16(start, body.size() - start);
    return this;
  }

  /**
   * The complete message with its length, {@code sequence} and the flags plus {@code extraFlags}
   * (what the socket adds: request, ack, dump); the port id is left 0 (the kernel fills it in).
   */
  public byte[] toBytes(int sequence, int extraFlags) {
    if (!openNests.isEmpty()) {
      throw new IllegalStateException("nested attribute not ended");
    }
    ByteBuffer message = ByteBuffer.allocate(HEADER_LENGTH + body.size()).order(ByteOrder.nativeOrder());
    message.putInt(HEADER_LENGTH + body.size()).putShort((short) type).putShort((short) (flags | extraFlags)).putInt(sequence).putInt(0);
    message.put(body.toByteArray());
    return message.array();
  }

  /** 4-byte alignment of netlink messages and attributes. */
  static int align(int length) {
    return (length + 3) & ~3;
  }

  private static final class Bytes extends ByteArrayOutputStream {
    void writeInt(int value, int width) {
      ByteBuffer b = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder());
      if (width == 2) {
        b.putShort((short) value);
      } else {
        b.putInt(value);
      }
      write(b.array(), 0, width);
    }

    void pad() {
      while (count % 4 != 0) {
        write(0);
      }
    }

    void patchU16(int offset, int value) {
      ByteBuffer.wrap(buf, offset, 2).order(ByteOrder.nativeOrder()).putShort((short) value);
    }
  }
}
