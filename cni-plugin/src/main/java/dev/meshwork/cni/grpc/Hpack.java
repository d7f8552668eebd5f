package dev.meshwork.cni.grpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * HPACK (RFC 7541): the decoder the client needs for the server's header blocks (static and
 * dynamic table, Huffman strings, size updates), and the one encoding it uses for its own
 * requests: literals without indexing, so that it keeps no encoder state.
 */
final class Hpack {

  /** The static table, RFC 7541 Appendix A (index 1 is element 0). */
  private static final Header[] STATIC = {
    new Header(":authority", ""),
    new Header(":method", "GET"),
    new Header(":method", "POST"),
    new Header(":path", "/"),
    new Header(":path", "/index.html"),
    new Header(":scheme", "http"),
    new Header(":scheme", "https"),
    new Header(":status", "200"),
    new Header(":status", "204"),
    new Header(":status", "206"),
    new Header(":status", "304"),
    new Header(":status", "400"),
    new Header(":status", "404"),
    new Header(":status", "500"),
    new Header("accept-charset", ""),
    new Header("accept-encoding", "gzip, deflate"),
    new Header("accept-language", ""),
    new Header("accept-ranges", ""),
    new Header("accept", ""),
    new Header("access-control-allow-origin", ""),
    new Header("age", ""),
    new Header("allow", ""),
    new Header("authorization", ""),
    new Header("cache-control", ""),
    new Header("content-disposition", ""),
    new Header("content-encoding", ""),
    new Header("content-language", ""),
    new Header("content-length", ""),
    new Header("content-location", ""),
    new Header("content-range", ""),
    new Header("content-type", ""),
    new Header("cookie", ""),
    new Header("date", ""),
    new Header("etag", ""),
    new Header("expect", ""),
    new Header("expires", ""),
    new Header("from", ""),
    new Header("host", ""),
    new Header("if-match", ""),
    new Header("if-modified-since", ""),
    new Header("if-none-match", ""),
    new Header("if-range", ""),
    new Header("if-unmodified-since", ""),
    new Header("last-modified", ""),
    new Header("link", ""),
    new Header("location", ""),
    new Header("max-forwards", ""),
    new Header("proxy-authenticate", ""),
    new Header("proxy-authorization", ""),
    new Header("range", ""),
    new Header("referer", ""),
    new Header("refresh", ""),
    new Header("retry-after", ""),
    new Header("server", ""),
    new Header("set-cookie", ""),
    new Header("strict-transport-security", ""),
    new Header("transfer-encoding", ""),
    new Header("user-agent", ""),
    new Header("vary", ""),
    new Header("via", ""),
    new Header("www-authenticate", ""),
  };

  private Hpack() {}

  /** Index of a name in the static table (1-based), or 0. Used to shorten request literals. */
  static int staticNameIndex(String name) {
    for (int i = 0; i < STATIC.length; i++) {
      if (STATIC[i].name().equals(name)) {
        return i + 1;
      }
    }
    return 0;
  }

  static Header staticEntry(int index) {
    return STATIC[index - 1];
  }

  static int staticSize() {
    return STATIC.length;
  }

  // ------------------------------------------------------------------------------------------
  // Encoding

  /** Encodes headers as literals without indexing (name from the static table when it is there). */
  static byte[] encode(List<Header> headers) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    for (Header h : headers) {
      int nameIndex = staticNameIndex(h.name());
      writeInteger(out, 0x00, 4, nameIndex);
      if (nameIndex == 0) {
        writeString(out, h.name());
      }
      writeString(out, h.value());
    }
    return out.toByteArray();
  }

  /** An integer with an N-bit prefix (RFC 7541 section 5.1); {@code flags} fills the high bits. */
  static void writeInteger(ByteArrayOutputStream out, int flags, int prefixBits, int value) {
    int max = (1 << prefixBits) - 1;
    if (value < max) {
      out.write(flags | value);
      return;
    }
    out.write(flags | max);
    value -= max;
    while (value >= 0x80) {
      out.write((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write(value);
  }

  private static void writeString(ByteArrayOutputStream out, String s) {
    byte[] bytes = s.getBytes(StandardCharsets.ISO_8859_1);
    writeInteger(out, 0x00, 7, bytes.length); // H = 0: raw octets
    out.write(bytes, 0, bytes.length);
  }

  // ------------------------------------------------------------------------------------------
  // Decoding

  /** A decoder: holds the dynamic table across the header blocks of one connection. */
  static final class Decoder {
    private final ArrayDeque<Header> dynamic = new ArrayDeque<>(); // newest first
    private final int maxTableSizeLimit;
    private int maxTableSize;
    private int tableSize;

    /** @param maxTableSizeLimit our SETTINGS_HEADER_TABLE_SIZE: the peer may not exceed it */
    Decoder(int maxTableSizeLimit) {
      this.maxTableSizeLimit = maxTableSizeLimit;
      this.maxTableSize = maxTableSizeLimit;
    }

    List<Header> decode(byte[] block) {
      List<Header> headers = new ArrayList<>();
      int[] pos = {0};
      boolean headerSeen = false;
      while (pos[0] < block.length) {
        int b = block[pos[0]] & 0xff;
        if ((b & 0x80) != 0) { // indexed field
          int index = readInteger(block, pos, 7);
          headers.add(entry(index));
          headerSeen = true;
        } else if ((b & 0x40) != 0) { // literal with incremental indexing
          Header h = readLiteral(block, pos, 6);
          headers.add(h);
          add(h);
          headerSeen = true;
        } else if ((b & 0x20) != 0) { // dynamic table size update
          if (headerSeen) {
            throw new HpackException("table size update after a header field");
          }
          int size = readInteger(block, pos, 5);
          if (size > maxTableSizeLimit) {
            throw new HpackException("table size update to " + size + " exceeds our limit "
                + maxTableSizeLimit);
          }
          maxTableSize = size;
          evict(0);
        } else { // literal without indexing (0000) or never indexed (0001)
          headers.add(readLiteral(block, pos, 4));
          headerSeen = true;
        }
      }
      return headers;
    }

    int tableSize() {
      return tableSize;
    }

    private Header readLiteral(byte[] block, int[] pos, int prefixBits) {
      int nameIndex = readInteger(block, pos, prefixBits);
      String name = nameIndex == 0 ? readString(block, pos) : entry(nameIndex).name();
      String value = readString(block, pos);
      return new Header(name, value);
    }

    private Header entry(int index) {
      if (index <= 0) {
        throw new HpackException("header index 0");
      }
      if (index <= STATIC.length) {
        return STATIC[index - 1];
      }
      int d = index - STATIC.length - 1;
      if (d >= dynamic.size()) {
        throw new HpackException("header index " + index + " beyond the dynamic table");
      }
      int i = 0;
      for (Header h : dynamic) {
        if (i++ == d) {
          return h;
        }
      }
      throw new IllegalStateException("unreachable");
    }

    private void add(Header h) {
      int size = h.hpackSize();
      if (size > maxTableSize) {
        // An entry larger than the table empties it and is not added (RFC 7541 section 4.4).
        dynamic.clear();
        tableSize = 0;
        return;
      }
      evict(size);
      dynamic.addFirst(h);
      tableSize += size;
    }

    private void evict(int room) {
      while (tableSize + room > maxTableSize && !dynamic.isEmpty()) {
        tableSize -= dynamic.removeLast().hpackSize();
      }
    }
  }

  static int readInteger(byte[] block, int[] pos, int prefixBits) {
    int max = (1 << prefixBits) - 1;
    int value = block[pos[0]++] & max;
    if (value < max) {
      return value;
    }
    int shift = 0;
    while (true) {
      if (pos[0] >= block.length) {
        throw new HpackException("truncated integer");
      }
      int b = block[pos[0]++] & 0xff;
      if (shift > 21) {
        throw new HpackException("integer too large");
      }
      value += (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        return value;
      }
    }
  }

  private static String readString(byte[] block, int[] pos) {
    if (pos[0] >= block.length) {
      throw new HpackException("truncated string");
    }
    boolean huffman = (block[pos[0]] & 0x80) != 0;
    int length = readInteger(block, pos, 7);
    if (length < 0 || pos[0] + length > block.length) {
      throw new HpackException("string of " + length + " bytes runs past the header block");
    }
    byte[] bytes = huffman
        ? Huffman.decode(block, pos[0], length)
        : java.util.Arrays.copyOfRange(block, pos[0], pos[0] + length);
    pos[0] += length;
    return new String(bytes, StandardCharsets.ISO_8859_1);
  }
}
