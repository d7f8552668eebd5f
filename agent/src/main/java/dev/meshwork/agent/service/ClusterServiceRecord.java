package dev.meshwork.agent.service;

import java.util.List;

/**
 * What one cluster says about one Service: its frontends in that cluster, ports, backends, and
 * the global, sharing and affinity annotations. Remote records are decoded from the kvstore's
 * ClusterService (always global); the local cluster's come from its Kubernetes API (any
 * ClusterIP, NodePort or LoadBalancer Service) or, without one, from its kvstore.
 *
 * @param global whether the service is merged with the same namespace/name of other clusters;
 *     a non-global service is programmed with its own backends only
 */
public record ClusterServiceRecord(
    String cluster,
    String namespace,
    String name,
    boolean global,
    boolean shared,
    Affinity affinity,
    int sessionAffinityTimeoutSeconds,
    List<FrontendSpec> frontends,
    List<ServicePortSpec> ports,
    List<BackendRecord> backends) {

  public ClusterServiceRecord {
    frontends = List.copyOf(frontends);
    ports = List.copyOf(ports);
    backends = List.copyOf(backends);
  }

  /** A global service, as every kvstore record is. */
  public ClusterServiceRecord(
      String cluster,
      String namespace,
      String name,
      boolean shared,
      Affinity affinity,
      int sessionAffinityTimeoutSeconds,
      List<FrontendSpec> frontends,
      List<ServicePortSpec> ports,
      List<BackendRecord> backends) {
    this(cluster, namespace, name, true, shared, affinity, sessionAffinityTimeoutSeconds, frontends, ports, backends);
  }

  /** "namespace/name", the key services of different clusters are merged by. */
  public String qualifiedName() {
    return namespace + "/" + name;
  }
}
