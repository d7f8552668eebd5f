package dev.meshwork.cni.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** The Huffman code rebuilt from code lengths, against RFC 7541 Appendix B and C. */
class HuffmanTest {

  @Test
  void rebuildsTheRfcCodes() {
    // A sample across every code length, as printed in RFC 7541 Appendix B.
    int[][] rfc = {
      {'0', 0x0, 5}, {'t', 0x9, 5}, {' ', 0x14, 6}, {':', 0x5c, 7}, {'&', 0xf8, 8},
      {'!', 0x3f8, 10}, {'\'', 0x7fa, 11}, {'#', 0xffa, 12}, {0, 0x1ff8, 13}, {'^', 0x3ffc, 14},
      {'<', 0x7ffc, 15}, {'\\', 0x7fff0, 19}, {128, 0xfffe6, 20}, {153, 0x1fffdc, 21},
      {129, 0x3fffd2, 22}, {1, 0x7fffd8, 23}, {9, 0xffffea, 24}, {199, 0x1ffffec, 25},
      {192, 0x3ffffe0, 26}, {203, 0x7ffffde, 27}, {2, 0xfffffe2, 28}, {10, 0x3ffffffc, 30},
      {255, 0x3ffffee, 26}, {Huffman.EOS, 0x3fffffff, 30}
    };
    for (int[] entry : rfc) {
      assertThat(Huffman.length(entry[0])).as("length of %d", entry[0]).isEqualTo(entry[2]);
      assertThat(Huffman.code(entry[0])).as("code of %d", entry[0]).isEqualTo(entry[1]);
    }
  }

  @Test
  void decodesTheRfcExamples() {
    assertThat(decode("f1e3 c2e5 f23a 6ba0 ab90 f4ff")).isEqualTo("www.example.com");
    assertThat(decode("a8eb 1064 9cbf")).isEqualTo("no-cache");
    assertThat(decode("6402")).isEqualTo("302");
    assertThat(decode("aec3 771a 4b")).isEqualTo("private");
    assertThat(decode("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"))
        .isEqualTo("Mon, 21 Oct 2013 20:13:21 GMT");
    assertThat(decode("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"))
        .isEqualTo("https://www.example.com");
  }

  @Test
  void roundTripsEveryByteValue() {
    byte[] all = new byte[256 * 3];
    for (int i = 0; i < all.length; i++) {
      all[i] = (byte) (i * 7);
    }

    byte[] encoded = Huffman.encode(all);

    assertThat(Huffman.decode(encoded, 0, encoded.length)).isEqualTo(all);
  }

  @Test
  void rejectsPaddingThatIsNotTheEosPrefix() {
    // 'a' is 00011 (5 bits); padding the remaining 3 bits with zeros is invalid.
    assertThatThrownBy(() -> Huffman.decode(new byte[] {0x18}, 0, 1))
        .isInstanceOf(HpackException.class).hasMessageContaining("padding");
  }

  @Test
  void rejectsPaddingOfAWholeByte() {
    byte[] a = Huffman.encode("a".getBytes(StandardCharsets.ISO_8859_1));
    byte[] padded = {a[0], (byte) 0xff};

    assertThatThrownBy(() -> Huffman.decode(padded, 0, 2)).isInstanceOf(HpackException.class);
  }

  @Test
  void rejectsAnEncodedEos() {
    byte[] eos = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};

    assertThatThrownBy(() -> Huffman.decode(eos, 0, 4)).isInstanceOf(HpackException.class)
        .hasMessageContaining("EOS");
  }

  private static String decode(String hex) {
    byte[] bytes = HexFormat.of().parseHex(hex.replace(" ", ""));
    return new String(Huffman.decode(bytes, 0, bytes.length), StandardCharsets.ISO_8859_1);
  }
}
