package dev.meshwork.operator.ipam;

/**
 * An IPv4 prefix such as {@code 10.1.0.0/16}. Parsing is strict: four decimal octets, a prefix
 * length of 0..32, and no host bits set, so that a typo in the pool setting is an error rather
 * than a silently different pool.
 */
public record Ipv4Cidr(int address, int prefixLength) {

  public Ipv4Cidr {
    if (prefixLength < 0 || prefixLength > 32) {
      throw new IllegalArgumentException("prefix length " + prefixLength + " is not in 0..32");
    }
    if ((address & ~mask(prefixLength)) != 0) {
      throw new IllegalArgumentException(
          "host bits are set in " + format(address) + "/" + prefixLength);
    }
  }

  /** Parses {@code a.b.c.d/n}; the message of the exception says what is wrong. */
  public static Ipv4Cidr parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("an IPv4 CIDR is required, e.g. 10.1.0.0/16");
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an IPv4 CIDR: the /prefix-length is missing");
    }
    int address = parseAddress(text.substring(0, slash), text);
    int prefix;
    try {
      prefix = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an IPv4 CIDR: the prefix length is not a number", e);
    }
    if (prefix < 0 || prefix > 32) {
      throw new IllegalArgumentException(
          "'" + text + "' is not an IPv4 CIDR: the prefix length must be 0..32");
    }
    if ((address & ~mask(prefix)) != 0) {
      throw new IllegalArgumentException(
          "'"
              + text
              + "' is not an IPv4 CIDR: host bits are set (did you mean "
              + format(address & mask(prefix))
              + "/"
              + prefix
              + "?)");
    }
    return new Ipv4Cidr(address, prefix);
  }

  private static int parseAddress(String text, String whole) {
    String[] octets = text.split("\\.", -1);
    if (octets.length != 4) {
      throw new IllegalArgumentException(
          "'" + whole + "' is not an IPv4 CIDR: '" + text + "' is not four dotted octets");
    }
    int address = 0;
    for (String octet : octets) {
      int value;
      try {
        value = octet.isEmpty() || octet.length() > 3 ? -1 : Integer.parseInt(octet);
      } catch (NumberFormatException e) {
        value = -1;
      }
      if (value < 0 || value > 255) {
        throw new IllegalArgumentException(
            "'" + whole + "' is not an IPv4 CIDR: '" + octet + "' is not an octet (0..255)");
      }
      address = address << 8 | value;
    }
    return address;
  }

  static int mask(int prefixLength) {
    return prefixLength == 0 ? 0 : -1 << (32 - prefixLength);
  }

  private static String format(int address) {
    return (address >>> 24) + "." + (address >>> 16 & 0xff) + "." + (address >>> 8 & 0xff) + "."
        + (address & 0xff);
  }

  /** Whether {@code other} lies entirely inside this prefix. */
  public boolean contains(Ipv4Cidr other) {
    return other.prefixLength >= prefixLength && (other.address & mask(prefixLength)) == address;
  }

  @Override
  public String toString() {
    return format(address) + "/" + prefixLength;
  }
}
