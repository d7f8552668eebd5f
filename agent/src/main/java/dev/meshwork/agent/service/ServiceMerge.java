package dev.meshwork.agent.service;

import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Service;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The global service merge, as pure rules (no I/O, no state).
 *
 * <p>A local Service that is not global is load-balanced over its own backends only, whatever
 * other clusters export under the same name. A local global Service is load-balanced on its own
 * frontends over its own backends plus the backends of every other cluster that exports the same
 * namespace/name as global and shared. A
 * non-shared local service still imports; a non-shared remote service exports nothing. Affinity
 * {@code local} uses remote backends only while no local backend is ready, {@code remote} the
 * reverse, {@code none} all of them. Following Kubernetes, terminating (but serving) backends
 * are used only when no ready backend is left.
 */
public final class ServiceMerge {
  private ServiceMerge() {}

  /**
   * The frontends to program for the local service {@code local}, given what the other clusters
   * export under the same name. Remote records of other names are ignored.
   */
  public static List<MergedFrontend> merge(
      ClusterServiceRecord local, Collection<ClusterServiceRecord> remotes) {
    List<ClusterServiceRecord> exporting = new ArrayList<>();
    for (ClusterServiceRecord remote : local.global() ? remotes : List.<ClusterServiceRecord>of()) {
      if (remote.global()
          && remote.shared()
          && !remote.cluster().equals(local.cluster())
          && remote.namespace().equals(local.namespace())
          && remote.name().equals(local.name())) {
        exporting.add(remote);
      }
    }
    List<MergedFrontend> out = new ArrayList<>();
    for (int p = 0; p < local.ports().size(); p++) {
      ServicePortSpec port = local.ports().get(p);
      List<MergedBackend> backends = backendsFor(local, p, exporting);
      for (FrontendSpec frontend : local.frontends()) {
        out.add(
            new MergedFrontend(
                local.namespace(),
                local.name(),
                new L4Address(frontend.ip(), port.port(), port.protocol()),
                frontend.kind(),
                backends,
                local.sessionAffinityTimeoutSeconds(),
                local.global()));
      }
      if (port.nodePort() != 0) {
        out.add(
            new MergedFrontend(
                local.namespace(),
                local.name(),
                new L4Address(0, port.nodePort(), port.protocol()),
                Service.Kind.NODE_PORT,
                backends,
                local.sessionAffinityTimeoutSeconds(),
                local.global()));
      }
    }
    return out;
  }

  private static List<MergedBackend> backendsFor(
      ClusterServiceRecord local, int portIndex, List<ClusterServiceRecord> exporting) {
    ServicePortSpec port = local.ports().get(portIndex);
    Candidates localSet = new Candidates();
    localSet.collect(local, local.ports().get(portIndex), portIndex);
    Candidates remoteSet = new Candidates();
    for (ClusterServiceRecord remote : exporting) {
      int remoteIndex = indexOf(remote, port.name());
      if (remoteIndex >= 0) {
        remoteSet.collect(remote, remote.ports().get(remoteIndex), remoteIndex);
      }
    }
    List<MergedBackend> chosen =
        switch (local.affinity()) {
          case NONE -> firstNonEmpty(concat(localSet.ready, remoteSet.ready), concat(localSet.terminating, remoteSet.terminating));
          case LOCAL -> firstNonEmpty(localSet.ready, remoteSet.ready, localSet.terminating, remoteSet.terminating);
          case REMOTE -> firstNonEmpty(remoteSet.ready, localSet.ready, remoteSet.terminating, localSet.terminating);
        };
    List<MergedBackend> sorted = new ArrayList<>(chosen);
    sorted.sort(null);
    return sorted;
  }

  /** Ports are matched across clusters by name (Kubernetes' rule for EndpointSlices). */
  private static int indexOf(ClusterServiceRecord record, String portName) {
    for (int i = 0; i < record.ports().size(); i++) {
      if (record.ports().get(i).name().equals(portName)) {
        return i;
      }
    }
    return -1;
  }

  @SafeVarargs
  private static List<MergedBackend> firstNonEmpty(List<MergedBackend>... lists) {
    for (List<MergedBackend> list : lists) {
      if (!list.isEmpty()) {
        return list;
      }
    }
    return List.of();
  }

  private static List<MergedBackend> concat(List<MergedBackend> a, List<MergedBackend> b) {
    List<MergedBackend> all = new ArrayList<>(a);
    all.addAll(b);
    return all;
  }

  /** Backends of one side, split into ready ones and terminating-but-serving ones. */
  private static final class Candidates {
    final List<MergedBackend> ready = new ArrayList<>();
    final List<MergedBackend> terminating = new ArrayList<>();

    void collect(ClusterServiceRecord record, ServicePortSpec port, int portIndex) {
      for (BackendRecord backend : record.backends()) {
        int target = backend.targetPort(portIndex);
        if (target == 0) {
          continue;
        }
        L4Address address = new L4Address(backend.ip(), target, port.protocol());
        if (backend.ready() && !backend.terminating()) {
          ready.add(new MergedBackend(address, record.cluster(), false));
        } else if (backend.serving() && backend.terminating()) {
          terminating.add(new MergedBackend(address, record.cluster(), true));
        }
      }
    }
  }
}
