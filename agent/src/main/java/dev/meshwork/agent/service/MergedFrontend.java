package dev.meshwork.agent.service;

import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Service;
import java.util.List;

/**
 * One frontend of a local Service with the backends the merge chose for it, sorted by address
 * so that the datapath's slot order does not change when nothing changed.
 *
 * @param global whether the backends were merged across clusters
 */
public record MergedFrontend(
    String namespace,
    String name,
    L4Address frontend,
    Service.Kind kind,
    List<MergedBackend> backends,
    int sessionAffinityTimeoutSeconds,
    boolean global) {

  public MergedFrontend {
    backends = List.copyOf(backends);
  }

  public List<L4Address> backendAddresses() {
    return backends.stream().map(MergedBackend::address).toList();
  }
}
