package dev.meshwork.agent.service;

import java.util.Arrays;

/**
 * One backend of a ClusterService, kept small because there are up to 100k of them: the pod IP,
 * the EndpointSlice conditions as bits, and the target port of each service port in the order of
 * {@link ClusterServiceRecord#ports()} (0 when the backend does not serve that port).
 */
public final class BackendRecord {
  private static final byte READY = 1;
  private static final byte SERVING = 2;
  private static final byte TERMINATING = 4;

  private final int ip;
  private final byte conditions;
  private final int[] targetPorts;

  public BackendRecord(int ip, boolean ready, boolean serving, boolean terminating, int[] targetPorts) {
    this.ip = ip;
    this.conditions =
        (byte) ((ready ? READY : 0) | (serving ? SERVING : 0) | (terminating ? TERMINATING : 0));
    this.targetPorts = targetPorts.clone();
  }

  public int ip() {
    return ip;
  }

  public boolean ready() {
    return (conditions & READY) != 0;
  }

  public boolean serving() {
    return (conditions & SERVING) != 0;
  }

  public boolean terminating() {
    return (conditions & TERMINATING) != 0;
  }

  /** The target port for the service port at {@code index}, 0 when this backend has none. */
  public int targetPort(int index) {
    return index < targetPorts.length ? targetPorts[index] : 0;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BackendRecord b
        && b.ip == ip
        && b.conditions == conditions
        && Arrays.equals(b.targetPorts, targetPorts);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * ip + conditions) + Arrays.hashCode(targetPorts);
  }

  @Override
  public String toString() {
    return dev.meshwork.datapath.Ipv4.format(ip)
        + (ready() ? " ready" : "")
        + (serving() ? " serving" : "")
        + (terminating() ? " terminating" : "")
        + " ports="
        + Arrays.toString(targetPorts);
  }
}
