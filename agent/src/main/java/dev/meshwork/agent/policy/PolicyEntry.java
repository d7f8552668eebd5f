package dev.meshwork.agent.policy;

import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;

/**
 * A {@link PolicyKey} without its endpoint, packed into a non-negative long: the engine counts
 * these per endpoint without allocating, and builds a {@code PolicyKey} only for a key whose
 * count starts or stops. Bits 0–7 protocol (0 any, else ordinal + 1), 8–23 port, 24–55 remote
 * identity, 56 direction.
 */
final class PolicyEntry {
  private static final int PORT_SHIFT = 8;
  private static final int IDENTITY_SHIFT = 24;
  private static final int DIRECTION_SHIFT = 56;
  private static final Protocol[] PROTOCOLS = Protocol.values();
  private static final Direction[] DIRECTIONS = Direction.values();

  private PolicyEntry() {}

  /** The entry of a rule's port without the remote identity (see {@link #withIdentity}). */
  static long ofPort(Direction direction, PortProtocol port) {
    return (long) direction.ordinal() << DIRECTION_SHIFT
        | (long) port.port() << PORT_SHIFT
        | (port.protocol() == null ? 0 : port.protocol().ordinal() + 1);
  }

  static long withIdentity(long portEntry, int remoteIdentity) {
    return portEntry | (remoteIdentity & 0xffffffffL) << IDENTITY_SHIFT;
  }

  static long of(PolicyKey key) {
    return withIdentity(
        ofPort(key.direction(), new PortProtocol(key.port(), key.protocol())), key.remoteIdentity());
  }

  static PolicyKey key(int endpointIp, long entry) {
    int protocol = (int) (entry & 0xff);
    return new PolicyKey(
        endpointIp,
        DIRECTIONS[(int) (entry >>> DIRECTION_SHIFT)],
        (int) (entry >>> IDENTITY_SHIFT),
        (int) (entry >>> PORT_SHIFT) & 0xffff,
        protocol == 0 ? null : PROTOCOLS[protocol - 1]);
  }
}
