package dev.meshwork.datapath;

/**
 * One allowed flow of a local endpoint: traffic in {@code direction} with the peer identity
 * {@code remoteIdentity} on {@code port}/{@code protocol}. Identity 0 means any identity, port 0
 * means any port, {@code protocol} null means any protocol.
 */
public record PolicyKey(
    int endpointIp, Direction direction, int remoteIdentity, int port, Protocol protocol) {

  public enum Direction {
    INGRESS,
    EGRESS
  }

  public PolicyKey {
    java.util.Objects.requireNonNull(direction, "direction");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " is outside 0..65535");
    }
  }
}
