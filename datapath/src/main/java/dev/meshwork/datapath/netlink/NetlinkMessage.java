package dev.meshwork.datapath.netlink;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * One message of a netlink reply: its header fields and its payload (family header plus
 * attributes), a read-only little view of the received datagram in the host's byte order.
 */
public record NetlinkMessage(int type, int flags, int sequence, ByteBuffer payload) {
  // nlmsg_type values common to all netlink families
  static final int NLMSG_ERROR = 2;
  static final int NLMSG_DONE = 3;
  // nlmsg_flags
  public static final int NLM_F_REQUEST = 0x1;
  public static final int NLM_F_MULTI = 0x2;
  public static final int NLM_F_ACK = 0x4;
  public static final int NLM_F_DUMP_INTR = 0x10;
  public static final int NLM_F_DUMP = 0x300;
  public static final int NLM_F_REPLACE = 0x100;
  public static final int NLM_F_EXCL = 0x200;
  public static final int NLM_F_CREATE = 0x400;
  /** On an error message: the request was not echoed back (NETLINK_CAP_ACK). */
  static final int NLM_F_CAPPED = 0x100;
  /** On an error message: extended-ack attributes follow. */
  static final int NLM_F_ACK_TLVS = 0x200;
  /** Extended-ack attribute: the kernel's explanation as a string. */
  static final int NLMSGERR_ATTR_MSG = 1;

  /** Splits a datagram into its messages; throws naming the offset when a length is inconsistent. */
  public static List<NetlinkMessage> parse(ByteBuffer datagram) throws NetlinkException {
    ByteBuffer in = datagram.duplicate().order(ByteOrder.nativeOrder());
    List<NetlinkMessage> messages = new ArrayList<>();
    while (in.remaining() >= NetlinkRequest.HEADER_LENGTH) {
      int start = in.position();
      int length = in.getInt(start);
      if (length < NetlinkRequest.HEADER_LENGTH || length > in.remaining()) {
        throw new NetlinkException(
            "malformed netlink reply: message at offset " + start + " claims " + length + " bytes, " + in.remaining() + " left");
      }
      int type = Short.toUnsignedInt(in.getShort(start + 4));
      int flags = Short.toUnsignedInt(in.getShort(start + 6));
      int sequence = in.getInt(start + 8);
      ByteBuffer payload = in.slice(start + NetlinkRequest.HEADER_LENGTH, length - NetlinkRequest.HEADER_LENGTH)
          .asReadOnlyBuffer().order(ByteOrder.nativeOrder());
      messages.add(new NetlinkMessage(type, flags, sequence, payload));
      in.position(Math.min(in.limit(), start + NetlinkRequest.align(length)));
    }
    return messages;
  }

  public boolean isError() {
    return type == NLMSG_ERROR;
  }

  public boolean isDone() {
    return type == NLMSG_DONE;
  }

  /** For an {@code NLMSG_ERROR} message: the errno (positive), 0 for an acknowledgement. */
  public int errno() {
    return -payload.getInt(0);
  }

  /** For an {@code NLMSG_ERROR} message: the kernel's extended-ack text, empty when it sent none. */
  public String kernelMessage() {
    if ((flags & NLM_F_ACK_TLVS) == 0) {
      return "";
    }
    // after the error code comes the request's header, or the whole request unless capped
    int echoed = (flags & NLM_F_CAPPED) != 0
        ? NetlinkRequest.HEADER_LENGTH
        : NetlinkRequest.align(payload.getInt(4));
    int offset = 4 + echoed;
    if (offset > payload.limit()) {
      return "";
    }
    return Attributes.parse(payload, offset).string(NLMSGERR_ATTR_MSG).orElse("");
  }

  /** The attributes after a family header of {@code familyHeaderLength} bytes. */
  public Attributes attributes(int familyHeaderLength) {
    return Attributes.parse(payload, familyHeaderLength);
  }
}
