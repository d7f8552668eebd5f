package dev.meshwork.cni.agent;

import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniResult;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The protobuf wire format of the EndpointService messages (agent.proto: CniRequest out,
 * CniResponse in), written by hand.
 *
 * <p>Why not the generated classes: initialising protobuf-java's descriptors for agent.proto
 * costs more CPU than the rest of a CNI call together (docs/benchmarks.md, "CNI plugin"), and the
 * plugin runs once per pod. The format of these few messages is small and stable; {@code
 * CniWireTest} checks both directions against the generated classes, so a change to agent.proto
 * that this class misses fails the build.
 */
public final class CniWire {

  private static final int VARINT = 0;
  private static final int FIXED64 = 1;
  private static final int LENGTH_DELIMITED = 2;
  private static final int FIXED32 = 5;

  private CniWire() {}

  // ------------------------------------------------------------------------------------------
  // CniRequest

  /** Serializes a CniRequest (fields 1-8 of agent.proto). */
  public static byte[] encode(AgentRequest request) {
    Writer w = new Writer();
    w.string(1, request.containerId());
    w.string(2, request.netns());
    w.string(3, request.ifname());
    for (Map.Entry<String, String> e : request.args().entrySet()) {
      Writer entry = new Writer(); // map entries are messages {1: key, 2: value}
      entry.string(1, e.getKey());
      entry.string(2, e.getValue());
      w.message(4, entry);
    }
    w.string(5, request.networkName());
    w.string(6, request.cniVersion());
    w.bytes(7, request.configJson());
    for (AgentRequest.Attachment a : request.validAttachments()) {
      Writer attachment = new Writer();
      attachment.string(1, a.containerId());
      attachment.string(2, a.ifname());
      w.message(8, attachment);
    }
    return w.toByteArray();
  }

  // ------------------------------------------------------------------------------------------
  // CniResponse

  /**
   * Parses a CniResponse.
   *
   * @throws WireException if the bytes are not a well-formed message, or carry neither a result
   *     nor an error
   */
  public static AgentAnswer decodeResponse(byte[] bytes) {
    Reader r = new Reader(bytes, 0, bytes.length);
    AgentAnswer answer = null;
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> answer = new AgentAnswer.Success(result(r.message()));
        case (2 << 3) | LENGTH_DELIMITED -> answer = new AgentAnswer.Failure(error(r.message()));
        default -> r.skip(key);
      }
    }
    if (answer == null) {
      throw new WireException("CniResponse has neither result nor error");
    }
    return answer;
  }

  private static CniResult result(Reader r) {
    List<CniResult.Interface> interfaces = new ArrayList<>();
    List<CniResult.IpConfig> ips = new ArrayList<>();
    List<CniResult.Route> routes = new ArrayList<>();
    CniResult.Dns dns = CniResult.Dns.EMPTY;
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> interfaces.add(itf(r.message()));
        case (2 << 3) | LENGTH_DELIMITED -> ips.add(ip(r.message()));
        case (3 << 3) | LENGTH_DELIMITED -> routes.add(route(r.message()));
        case (4 << 3) | LENGTH_DELIMITED -> dns = dns(r.message());
        default -> r.skip(key);
      }
    }
    return new CniResult(interfaces, ips, routes, dns);
  }

  private static CniResult.Interface itf(Reader r) {
    String name = "";
    String mac = "";
    String sandbox = "";
    long mtu = 0;
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> name = r.string();
        case (2 << 3) | LENGTH_DELIMITED -> mac = r.string();
        case (3 << 3) | LENGTH_DELIMITED -> sandbox = r.string();
        case (4 << 3) | VARINT -> mtu = r.varint() & 0xffffffffL; // uint32
        default -> r.skip(key);
      }
    }
    return new CniResult.Interface(name, mac, sandbox, mtu);
  }

  private static CniResult.IpConfig ip(Reader r) {
    String address = "";
    String gateway = "";
    int index = 0;
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> address = r.string();
        case (2 << 3) | LENGTH_DELIMITED -> gateway = r.string();
        case (3 << 3) | VARINT -> index = (int) r.varint(); // int32: negatives are 10 bytes
        default -> r.skip(key);
      }
    }
    return new CniResult.IpConfig(address, gateway, index);
  }

  private static CniResult.Route route(Reader r) {
    String dst = "";
    String gw = "";
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> dst = r.string();
        case (2 << 3) | LENGTH_DELIMITED -> gw = r.string();
        default -> r.skip(key);
      }
    }
    return new CniResult.Route(dst, gw);
  }

  private static CniResult.Dns dns(Reader r) {
    List<String> nameservers = new ArrayList<>();
    String domain = "";
    List<String> search = new ArrayList<>();
    List<String> options = new ArrayList<>();
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | LENGTH_DELIMITED -> nameservers.add(r.string());
        case (2 << 3) | LENGTH_DELIMITED -> domain = r.string();
        case (3 << 3) | LENGTH_DELIMITED -> search.add(r.string());
        case (4 << 3) | LENGTH_DELIMITED -> options.add(r.string());
        default -> r.skip(key);
      }
    }
    return new CniResult.Dns(nameservers, domain, search, options);
  }

  /** A CniError; code 0 (not a CNI code) is reported by the caller, so it is kept as -1 here. */
  private static CniError error(Reader r) {
    long code = 0;
    String msg = "";
    String details = "";
    while (r.more()) {
      int key = r.key();
      switch (key) {
        case (1 << 3) | VARINT -> code = r.varint() & 0xffffffffL;
        case (2 << 3) | LENGTH_DELIMITED -> msg = r.string();
        case (3 << 3) | LENGTH_DELIMITED -> details = r.string();
        default -> r.skip(key);
      }
    }
    if (code == 0 || code > Integer.MAX_VALUE) {
      throw new WireException("CniError without a valid code (" + code + "): " + msg
          + (details.isEmpty() ? "" : " " + details));
    }
    return new CniError((int) code, msg, details);
  }

  // ------------------------------------------------------------------------------------------
  // Wire primitives

  /** Malformed protobuf input. */
  public static final class WireException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    WireException(String message) {
      super(message);
    }
  }

  private static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    void string(int field, String value) {
      if (!value.isEmpty()) { // proto3 leaves default values out
        bytes(field, value.getBytes(StandardCharsets.UTF_8));
      }
    }

    void bytes(int field, byte[] value) {
      if (value.length == 0) {
        return;
      }
      varint(((long) field << 3) | LENGTH_DELIMITED);
      varint(value.length);
      out.write(value, 0, value.length);
    }

    void message(int field, Writer message) {
      varint(((long) field << 3) | LENGTH_DELIMITED);
      varint(message.out.size());
      out.writeBytes(message.out.toByteArray());
    }

    private void varint(long value) {
      while ((value & ~0x7fL) != 0) {
        out.write((int) ((value & 0x7f) | 0x80));
        value >>>= 7;
      }
      out.write((int) value);
    }

    byte[] toByteArray() {
      return out.toByteArray();
    }
  }

  private static final class Reader {
    private final byte[] buf;
    private int pos;
    private final int end;

    Reader(byte[] buf, int pos, int end) {
      this.buf = buf;
      this.pos = pos;
      this.end = end;
    }

    boolean more() {
      return pos < end;
    }

    int key() {
      long key = varint();
      if (key >>> 3 == 0 || key > Integer.MAX_VALUE) {
        throw new WireException("invalid field key " + key);
      }
      return (int) key;
    }

    long varint() {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        if (pos >= end) {
          throw new WireException("truncated varint");
        }
        byte b = buf[pos++];
        value |= (long) (b & 0x7f) << shift;
        if (b >= 0) {
          return value;
        }
      }
      throw new WireException("varint longer than 10 bytes");
    }

    private int length() {
      long length = varint();
      if (length < 0 || length > end - pos) {
        throw new WireException("length " + length + " runs past the message");
      }
      return (int) length;
    }

    String string() {
      int length = length();
      String s = new String(buf, pos, length, StandardCharsets.UTF_8);
      pos += length;
      return s;
    }

    Reader message() {
      int length = length();
      Reader inner = new Reader(buf, pos, pos + length);
      pos += length;
      return inner;
    }

    void skip(int key) {
      switch (key & 7) {
        case VARINT -> varint();
        case FIXED64 -> advance(8);
        case LENGTH_DELIMITED -> advance(length());
        case FIXED32 -> advance(4);
        default -> throw new WireException("unsupported wire type " + (key & 7));
      }
    }

    private void advance(int n) {
      if (n > end - pos) {
        throw new WireException("field runs past the message");
      }
      pos += n;
    }
  }
}
