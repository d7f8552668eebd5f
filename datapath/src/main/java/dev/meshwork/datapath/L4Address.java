package dev.meshwork.datapath;

/** An IPv4 address, port and transport protocol: a service frontend or a backend. */
public record L4Address(int ip, int port, Protocol protocol) implements Comparable<L4Address> {

  public L4Address {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 0..65535");
    }
    java.util.Objects.requireNonNull(protocol, "protocol");
  }

  @Override
  public int compareTo(L4Address o) {
    int c = Integer.compareUnsigned(ip, o.ip);
    if (c == 0) c = Integer.compare(port, o.port);
    if (c == 0) c = protocol.compareTo(o.protocol);
    return c;
  }

  /** "10.2.1.5:8080/TCP", the form the CLI prints. */
  @Override
  public String toString() {
    return Ipv4.format(ip) + ":" + port + "/" + protocol;
  }
}
