package dev.meshwork.datapath;

import java.util.List;

/**
 * A load-balanced frontend and the backends new connections may go to, in slot order.
 *
 * @param frontend the address clients connect to (ClusterIP, external or load-balancer IP and
 *     port); NodePort services use {@link Kind#NODE_PORT} with ip 0 meaning "any node address"
 * @param revNatId stable id (1..65535) used to reverse-NAT replies back to the frontend
 * @param backends the backends that get new connections; empty means the service rejects
 * @param sessionAffinityTimeoutSeconds ClientIP affinity timeout, 0 for none
 */
public record Service(
    L4Address frontend,
    Kind kind,
    int revNatId,
    List<L4Address> backends,
    int sessionAffinityTimeoutSeconds) {

  public enum Kind {
    CLUSTER_IP,
    NODE_PORT,
    EXTERNAL_IP,
    LOAD_BALANCER
  }

  public Service {
    java.util.Objects.requireNonNull(frontend, "frontend");
    java.util.Objects.requireNonNull(kind, "kind");
    if (revNatId < 1 || revNatId > 65535) {
      throw new IllegalArgumentException("service " + frontend + ": revNatId " + revNatId + " is outside 1..65535");
    }
    backends = List.copyOf(backends);
  }
}
