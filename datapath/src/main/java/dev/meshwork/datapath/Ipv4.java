package dev.meshwork.datapath;

/**
 * IPv4 addresses as {@code int} (network order in the high byte first), which keeps the agent's
 * tables small at 100k entries and maps directly onto eBPF map keys.
 */
public final class Ipv4 {
  private Ipv4() {}

  /** Parses dotted-quad notation; throws {@link IllegalArgumentException} naming the input. */
  public static int parse(String text) {
    String[] parts = text.split("\\.", -1);
    if (parts.length != 4) {
      throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
    }
    int value = 0;
    for (String part : parts) {
      int octet;
      try {
        octet = Integer.parseInt(part);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("not an IPv4 address: '" + text + "'", e);
      }
      if (octet < 0 || octet > 255 || part.isEmpty() || (part.length() > 1 && part.charAt(0) == '0')) {
        throw new IllegalArgumentException("not an IPv4 address: '" + text + "'");
      }
      value = (value << 8) | octet;
    }
    return value;
  }

  public static String format(int address) {
    return ((address >>> 24) & 0xff)
        + "."
        + ((address >>> 16) & 0xff)
        + "."
        + ((address >>> 8) & 0xff)
        + "."
        + (address & 0xff);
  }
}
