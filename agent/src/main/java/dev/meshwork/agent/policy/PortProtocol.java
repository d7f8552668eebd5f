package dev.meshwork.agent.policy;

import dev.meshwork.datapath.Protocol;

/**
 * A port a rule allows: {@code port} 0 means every port, {@code protocol} null every protocol
 * (Cilium's {@code ANY}). Same conventions as {@link dev.meshwork.datapath.PolicyKey}.
 */
public record PortProtocol(int port, Protocol protocol) {
  public static final PortProtocol ANY = new PortProtocol(0, null);

  public PortProtocol {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 0..65535");
    }
  }

  @Override
  public String toString() {
    return (port == 0 ? "*" : Integer.toString(port)) + "/" + (protocol == null ? "ANY" : protocol.name());
  }
}
