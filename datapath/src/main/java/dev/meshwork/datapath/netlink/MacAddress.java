package dev.meshwork.datapath.netlink;

import java.util.HexFormat;

/** Ethernet addresses between their text form ({@code 0e:1a:2b:3c:4d:5e}) and the 6 bytes netlink carries. */
public final class MacAddress {
  private static final HexFormat COLONS = HexFormat.ofDelimiter(":");

  private MacAddress() {}

  /** Throws {@link IllegalArgumentException} naming the text when it is not six hex octets. */
  public static byte[] parse(String text) {
    byte[] bytes;
    try {
      bytes = COLONS.parseHex(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not a MAC address: '" + text + "'", e);
    }
    if (bytes.length != 6) {
      throw new IllegalArgumentException("not a MAC address: '" + text + "'");
    }
    return bytes;
  }

  public static String format(byte[] bytes) {
    return COLONS.formatHex(bytes);
  }
}
