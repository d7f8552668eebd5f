package dev.meshwork.agent.policy;

import dev.meshwork.datapath.Protocol;

/** Port numbers and protocol names as policies write them. */
final class PortParser {
  private PortParser() {}

  /**
   * A port written as a number or a numeric string; null (with an error) for a named port or a
   * number outside 0..65535.
   */
  static Integer port(Object value, FieldPath path, SpecReader reader) {
    int port;
    if (value instanceof Integer i) {
      port = i;
    } else if (value instanceof String s && isPortNumber(s)) {
      port = Integer.parseInt(s);
    } else if (value instanceof String s) {
      reader.error(path, "named port \"" + s + "\" is not supported by Meshwork (use the number)");
      return null;
    } else {
      reader.error(path, "expected a port number, got " + SpecReader.describe(value));
      return null;
    }
    if (port < 0 || port > 65535) {
      reader.error(path, "port " + port + " is outside 0..65535");
      return null;
    }
    return port;
  }

  private static boolean isPortNumber(String s) {
    if (s.isEmpty() || s.length() > 5) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) < '0' || s.charAt(i) > '9') {
        return false;
      }
    }
    return true;
  }

  /**
   * TCP, UDP or SCTP; {@code ANY} (Cilium) gives null, meaning every protocol. Returns {@code
   * false} through the reader when the name is unknown.
   */
  static ParsedProtocol protocol(Object value, FieldPath path, SpecReader reader, boolean anyAllowed) {
    String name = reader.string(value, path);
    if (name == null) {
      return null;
    }
    if (anyAllowed && name.equals("ANY")) {
      return new ParsedProtocol(null);
    }
    for (Protocol p : Protocol.values()) {
      if (p.name().equals(name)) {
        return new ParsedProtocol(p);
      }
    }
    reader.error(
        path,
        "unknown protocol \"" + name + "\" (expected TCP, UDP, SCTP" + (anyAllowed ? " or ANY)" : ")"));
    return null;
  }

  /** A successfully parsed protocol; {@code protocol} null means any. */
  record ParsedProtocol(Protocol protocol) {}
}
