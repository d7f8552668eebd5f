package dev.meshwork.agent.service;

import java.util.List;

/**
 * What one cluster says about one global Service: its frontends in that cluster, ports,
 * backends, and the sharing and affinity annotations. Decoded from the kvstore's ClusterService.
 */
public record ClusterServiceRecord(
    String cluster,
    String namespace,
    String name,
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

  /** "namespace/name", the key services of different clusters are merged by. */
  public String qualifiedName() {
    return namespace + "/" + name;
  }
}
