package dev.meshwork.datapath;

/** An IPv4 prefix such as 10.2.1.0/24; a single address is a /32. Host bits must be zero. */
public record IpPrefix(int address, int length) implements Comparable<IpPrefix> {

  public IpPrefix {
    if (length < 0 || length > 32) {
      throw new IllegalArgumentException("prefix length " + length + " is outside 0..32");
    }
    if ((address & ~mask(length)) != 0) {
      throw new IllegalArgumentException(
          "prefix " + Ipv4.format(address) + "/" + length + " has host bits set");
    }
  }

  public static IpPrefix host(int address) {
    return new IpPrefix(address, 32);
  }

  /** Parses "a.b.c.d/n" or "a.b.c.d" (a /32). */
  public static IpPrefix parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      return host(Ipv4.parse(text));
    }
    int length;
    try {
      length = Integer.parseInt(text.substring(slash + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not an IPv4 prefix: '" + text + "'", e);
    }
    try {
      return new IpPrefix(Ipv4.parse(text.substring(0, slash)), length);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("not an IPv4 prefix: '" + text + "': " + e.getMessage(), e);
    }
  }

  public static int mask(int length) {
    return length == 0 ? 0 : -1 << (32 - length);
  }

  public boolean contains(int other) {
    return (other & mask(length)) == address;
  }

  public boolean overlaps(IpPrefix other) {
    int shorter = Math.min(length, other.length);
    return (address & mask(shorter)) == (other.address & mask(shorter));
  }

  @Override
  public int compareTo(IpPrefix o) {
    int byAddress = Integer.compareUnsigned(address, o.address);
    return byAddress != 0 ? byAddress : Integer.compare(length, o.length);
  }

  @Override
  public String toString() {
    return Ipv4.format(address) + "/" + length;
  }
}
