package dev.meshwork.cni.grpc;

import java.io.ByteArrayOutputStream;

/**
 * The HPACK Huffman code (RFC 7541, Appendix B). The code is canonical: within one code length,
 * codes are consecutive in symbol order, and each length starts where the previous one ended,
 * shifted left. So the 257 code lengths below are all that is needed to rebuild every code.
 */
final class Huffman {

  /** Code length in bits of each symbol 0..255 and EOS (256), from RFC 7541 Appendix B. */
  private static final byte[] LENGTHS = {
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, // 0-15
    28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, // 16-31
    6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, // ' '-'/'
    5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, // '0'-'?'
    13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, // '@'-'O'
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, // 'P'-'_'
    15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, // '`'-'o'
    6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, // 'p'-127
    20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
    24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
    22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
    21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
    26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
    19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
    20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
    26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
    30 // EOS
  };

  static final int EOS = 256;
  private static final int MAX_LENGTH = 30;

  /** Codes per symbol, right-aligned. */
  private static final int[] CODES = new int[257];
  /** Per code length: the first code, and the index into SYMBOLS of its symbol. */
  private static final int[] FIRST_CODE = new int[MAX_LENGTH + 2];
  private static final int[] FIRST_INDEX = new int[MAX_LENGTH + 2];
  private static final int[] COUNT = new int[MAX_LENGTH + 2];
  /** Symbols sorted by (code length, symbol): the canonical order. */
  private static final int[] SYMBOLS = new int[257];

  static {
    for (int s = 0; s <= EOS; s++) {
      COUNT[LENGTHS[s]]++;
    }
    int code = 0;
    int index = 0;
    for (int len = 1; len <= MAX_LENGTH; len++) {
      code <<= 1;
      FIRST_CODE[len] = code;
      FIRST_INDEX[len] = index;
      for (int s = 0; s <= EOS; s++) {
        if (LENGTHS[s] == len) {
          CODES[s] = code++;
          SYMBOLS[index++] = s;
        }
      }
    }
  }

  private Huffman() {}

  /** The code and length of a symbol (for tests against the RFC's table). */
  static int code(int symbol) {
    return CODES[symbol];
  }

  static int length(int symbol) {
    return LENGTHS[symbol];
  }

  /**
   * Decodes a Huffman-coded string.
   *
   * @throws HpackException on EOS in the data, padding longer than 7 bits, or padding that is
   *     not all ones (RFC 7541 section 5.2)
   */
  static byte[] decode(byte[] in, int offset, int length) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(length * 8 / 5 + 1);
    int code = 0;
    int bits = 0;
    for (int i = offset; i < offset + length; i++) {
      for (int b = 7; b >= 0; b--) {
        code = (code << 1) | ((in[i] >> b) & 1);
        bits++;
        int rel = code - FIRST_CODE[bits];
        if (rel >= 0 && rel < COUNT[bits]) {
          int symbol = SYMBOLS[FIRST_INDEX[bits] + rel];
          if (symbol == EOS) {
            throw new HpackException("Huffman-coded string contains EOS");
          }
          out.write(symbol);
          code = 0;
          bits = 0;
        } else if (bits >= MAX_LENGTH) {
          throw new HpackException("invalid Huffman code");
        }
      }
    }
    if (bits > 7) {
      throw new HpackException("Huffman padding longer than 7 bits");
    }
    if (code != (1 << bits) - 1) {
      throw new HpackException("Huffman padding is not the EOS prefix");
    }
    return out.toByteArray();
  }

  /** Encodes bytes (padding with the EOS prefix). */
  static byte[] encode(byte[] in) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(in.length);
    long buffer = 0;
    int bits = 0;
    for (byte value : in) {
      int s = value & 0xff;
      buffer = (buffer << LENGTHS[s]) | CODES[s];
      bits += LENGTHS[s];
      while (bits >= 8) {
        bits -= 8;
        out.write((int) (buffer >> bits) & 0xff);
      }
    }
    if (bits > 0) {
      out.write((int) ((buffer << (8 - bits)) | (0xff >> bits)) & 0xff);
    }
    return out.toByteArray();
  }
}
