package dev.meshwork.cni.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HPACK against the examples of RFC 7541 Appendix C. */
class HpackTest {

  static byte[] hex(String s) {
    return HexFormat.of().parseHex(s.replace(" ", ""));
  }

  static List<String> fields(List<Header> headers) {
    return headers.stream().map(h -> h.name() + ": " + h.value()).toList();
  }

  @Test
  void encodesIntegersWithAPrefix() { // C.1
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    Hpack.writeInteger(out, 0, 5, 10);
    Hpack.writeInteger(out, 0, 5, 1337);
    Hpack.writeInteger(out, 0, 8, 42);

    assertThat(out.toByteArray()).isEqualTo(hex("0a 1f9a0a 2a"));
    assertThat(Hpack.readInteger(hex("1f9a0a"), new int[] {0}, 5)).isEqualTo(1337);
  }

  @Test
  void decodesRequestsWithoutHuffmanSharingTheDynamicTable() { // C.3
    Hpack.Decoder decoder = new Hpack.Decoder(4096);

    assertThat(fields(decoder.decode(hex("8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d"))))
        .containsExactly(":method: GET", ":scheme: http", ":path: /",
            ":authority: www.example.com");
    assertThat(decoder.tableSize()).isEqualTo(57);

    assertThat(fields(decoder.decode(hex("8286 84be 5808 6e6f 2d63 6163 6865"))))
        .containsExactly(":method: GET", ":scheme: http", ":path: /",
            ":authority: www.example.com", "cache-control: no-cache");
    assertThat(decoder.tableSize()).isEqualTo(110);

    assertThat(fields(decoder.decode(hex("8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573"
        + " 746f 6d2d 7661 6c75 65")))).containsExactly(":method: GET", ":scheme: https",
            ":path: /index.html", ":authority: www.example.com", "custom-key: custom-value");
    assertThat(decoder.tableSize()).isEqualTo(164);
  }

  @Test
  void decodesRequestsWithHuffman() { // C.4
    Hpack.Decoder decoder = new Hpack.Decoder(4096);

    assertThat(fields(decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))))
        .containsExactly(":method: GET", ":scheme: http", ":path: /",
            ":authority: www.example.com");
    assertThat(fields(decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))))
        .endsWith("cache-control: no-cache");
    assertThat(fields(decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b"
        + " b8e8 b4bf")))).endsWith("custom-key: custom-value");
  }

  @Test
  void evictsTheOldestEntriesWhenTheTableIsFull() { // C.5: responses with a 256-byte table
    Hpack.Decoder decoder = new Hpack.Decoder(256);

    decoder.decode(hex("4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420"
        + " 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65"
        + " 7861 6d70 6c65 2e63 6f6d"));
    assertThat(decoder.tableSize()).isEqualTo(222);

    assertThat(fields(decoder.decode(hex("4803 3330 37c1 c0bf")))).containsExactly(
        ":status: 307", "cache-control: private", "date: Mon, 21 Oct 2013 20:13:21 GMT",
        "location: https://www.example.com");
    assertThat(decoder.tableSize()).isEqualTo(222);
  }

  @Test
  void appliesTableSizeUpdates() {
    Hpack.Decoder decoder = new Hpack.Decoder(4096);
    decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"));
    assertThat(decoder.tableSize()).isEqualTo(54);

    decoder.decode(hex("20")); // size update to 0 empties the table

    assertThat(decoder.tableSize()).isZero();
    assertThatThrownBy(() -> decoder.decode(hex("be"))).isInstanceOf(HpackException.class);
  }

  @Test
  void refusesATableLargerThanWeAllowed() {
    assertThatThrownBy(() -> new Hpack.Decoder(4096).decode(hex("3fe2 1f"))) // 4097
        .isInstanceOf(HpackException.class).hasMessageContaining("exceeds");
  }

  @Test
  void refusesTruncatedBlocks() {
    assertThatThrownBy(() -> new Hpack.Decoder(4096).decode(hex("410f 7777")))
        .isInstanceOf(HpackException.class);
  }

  @Test
  void encodesRequestHeadersThatDecodeBack() {
    List<Header> request = List.of(new Header(":method", "POST"), new Header(":scheme", "http"),
        new Header(":path", "/meshwork.v1.EndpointService/Add"),
        new Header("content-type", "application/grpc"), new Header("te", "trailers"),
        new Header("grpc-timeout", "60000m"));

    byte[] block = Hpack.encode(request);

    assertThat(new Hpack.Decoder(4096).decode(block)).isEqualTo(request);
    assertThat(new String(block, StandardCharsets.ISO_8859_1)).contains("application/grpc");
  }
}
