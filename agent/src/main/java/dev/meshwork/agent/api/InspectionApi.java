package dev.meshwork.agent.api;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.node.NodeRecord;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.MergedBackend;
import dev.meshwork.agent.service.MergedFrontend;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Service;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.EndpointInfo;
import dev.meshwork.proto.v1.EndpointList;
import dev.meshwork.proto.v1.IdentityInfo;
import dev.meshwork.proto.v1.IdentityList;
import dev.meshwork.proto.v1.InspectionServiceGrpc;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.LoadBalancerEntry;
import dev.meshwork.proto.v1.LoadBalancerEntryList;
import dev.meshwork.proto.v1.NodeInfo;
import dev.meshwork.proto.v1.NodeList;
import dev.meshwork.proto.v1.ServiceBackendInfo;
import dev.meshwork.proto.v1.ServiceInfo;
import dev.meshwork.proto.v1.ServiceList;
import dev.meshwork.proto.v1.TunnelEntry;
import dev.meshwork.proto.v1.TunnelList;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The read-only inspection API for the {@code meshwork} CLI. Tables answer "what the agent
 * knows" (nodes, services, identities, cluster status); the datapath snapshot answers "what is
 * programmed" (tunnels, load-balancer entries, endpoints).
 */
public final class InspectionApi extends InspectionServiceGrpc.InspectionServiceImplBase {
  private final NodeTable nodes;
  private final ServiceTable services;
  private final IdentityTable identities;
  private final ClusterMesh mesh;
  private final DatapathReconciler reconciler;
  private final Datapath datapath;
  private final String nodeName;
  private final Optional<Supplier<List<EndpointInfo>>> localEndpoints;

  public InspectionApi(
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      ClusterMesh mesh,
      DatapathReconciler reconciler,
      Datapath datapath,
      String nodeName) {
    this(nodes, services, identities, mesh, reconciler, datapath, nodeName, Optional.empty());
  }

  /**
   * @param localEndpoints the endpoint manager's endpoints, when it runs: {@code ListEndpoints}
   *     then lists them (with pod, container and status) instead of the datapath's entries
   */
  public InspectionApi(
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      ClusterMesh mesh,
      DatapathReconciler reconciler,
      Datapath datapath,
      String nodeName,
      Optional<Supplier<List<EndpointInfo>>> localEndpoints) {
    this.localEndpoints = localEndpoints;
    this.nodes = nodes;
    this.services = services;
    this.identities = identities;
    this.mesh = mesh;
    this.reconciler = reconciler;
    this.datapath = datapath;
    this.nodeName = nodeName;
  }

  private static boolean matches(ListRequest request, String cluster) {
    return request.getCluster().isEmpty() || request.getCluster().equals(cluster);
  }

  @Override
  public void listNodes(ListRequest request, StreamObserver<NodeList> out) {
    NodeList.Builder list = NodeList.newBuilder();
    String local = mesh.localCluster();
    for (NodeRecord n : nodes.all()) {
      if (!matches(request, n.cluster())) continue;
      boolean localCluster = n.cluster().equals(local);
      list.addNodes(NodeInfo.newBuilder()
          .setCluster(n.cluster())
          .setName(n.name())
          .setIpv4Address(n.internalIp() == 0 ? "" : Ipv4.format(n.internalIp()))
          .addAllEndpointCidrs(n.podCidrs().stream().map(Object::toString).toList())
          .setSource(localCluster ? (n.name().equals(nodeName) ? "local" : "kvstore") : "clustermesh")
          .setLocalCluster(localCluster));
    }
    reply(out, list.build());
  }

  @Override
  public void listTunnels(ListRequest request, StreamObserver<TunnelList> out) {
    DatapathSnapshot snapshot = snapshot(out);
    if (snapshot == null) return;
    TunnelList.Builder list = TunnelList.newBuilder();
    snapshot.ipcache().values().stream()
        .filter(e -> e.prefix().length() < 32 && e.tunnelled())
        .sorted(Comparator.comparing(IpCacheEntry::prefix))
        .forEach(e -> {
          String cluster = nodes.ownerOf(e.prefix()).map(NodeRecord::cluster).orElse("");
          if (matches(request, cluster)) {
            list.addTunnels(TunnelEntry.newBuilder()
                .setPrefix(e.prefix().toString())
                .setTunnelEndpoint(Ipv4.format(e.tunnelEndpoint()))
                .setCluster(cluster));
          }
        });
    reply(out, list.build());
  }

  @Override
  public void listServices(ListRequest request, StreamObserver<ServiceList> out) {
    ServiceList.Builder list = ServiceList.newBuilder();
    for (String name : services.localNames()) {
      for (MergedFrontend f : services.merged(name)) {
        ServiceInfo.Builder info = ServiceInfo.newBuilder()
            .setId(reconciler.revNatId(f.frontend()).orElse(0))
            .setNamespace(f.namespace())
            .setName(f.name())
            .setFrontend(f.frontend().toString())
            .setType(typeName(f.kind()))
            .setGlobal(f.global());
        for (MergedBackend b : f.backends()) {
          if (!matches(request, b.cluster())) continue;
          info.addBackends(ServiceBackendInfo.newBuilder()
              .setAddress(b.address().toString())
              .setCluster(b.cluster())
              .setState(b.terminating() ? "terminating" : "active"));
        }
        list.addServices(info);
      }
    }
    reply(out, list.build());
  }

  private static String typeName(Service.Kind kind) {
    return switch (kind) {
      case CLUSTER_IP -> "ClusterIP";
      case NODE_PORT -> "NodePort";
      case EXTERNAL_IP -> "ExternalIP";
      case LOAD_BALANCER -> "LoadBalancer";
    };
  }

  @Override
  public void listLoadBalancerEntries(ListRequest request, StreamObserver<LoadBalancerEntryList> out) {
    DatapathSnapshot snapshot = snapshot(out);
    if (snapshot == null) return;
    LoadBalancerEntryList.Builder list = LoadBalancerEntryList.newBuilder();
    List<Service> sorted = new ArrayList<>(snapshot.services().values());
    sorted.sort(Comparator.comparing(Service::frontend));
    for (Service s : sorted) {
      list.addEntries(LoadBalancerEntry.newBuilder()
          .setServiceAddress(s.frontend().toString())
          .setRevNatId(s.revNatId())
          .setSlot(0));
      int slot = 1;
      for (L4Address backend : s.backends()) {
        list.addEntries(LoadBalancerEntry.newBuilder()
            .setServiceAddress(s.frontend().toString())
            .setBackendAddress(backend.toString())
            .setRevNatId(s.revNatId())
            .setSlot(slot++));
      }
    }
    reply(out, list.build());
  }

  @Override
  public void listIdentities(ListRequest request, StreamObserver<IdentityList> out) {
    IdentityList.Builder list = IdentityList.newBuilder();
    for (IdentityTable.IdentityEntry e : identities.all()) {
      if (!matches(request, e.cluster()) && !e.cluster().equals("reserved")) continue;
      list.addIdentities(IdentityInfo.newBuilder().setId(e.id()).addAllLabels(e.labels()).setCluster(e.cluster()));
    }
    reply(out, list.build());
  }

  @Override
  public void listEndpoints(ListRequest request, StreamObserver<EndpointList> out) {
    DatapathSnapshot snapshot = snapshot(out);
    if (snapshot == null) return;
    EndpointList.Builder list = EndpointList.newBuilder();
    if (localEndpoints.isPresent()) {
      // The manager knows pods and unfinished ADDs; the datapath adds the enforcement flags.
      localEndpoints.get().get().stream()
          .sorted(Comparator.comparingLong(EndpointInfo::getId))
          .forEach(info -> {
            Endpoint programmed = snapshot.endpoints().get(Ipv4.parse(info.getIpv4()));
            list.addEndpoints(programmed == null ? info : info.toBuilder()
                .setIngressEnforced(programmed.ingressEnforced())
                .setEgressEnforced(programmed.egressEnforced())
                .build());
          });
      reply(out, list.build());
      return;
    }
    snapshot.endpoints().values().stream()
        .sorted(Comparator.comparingLong(Endpoint::id))
        .forEach(e -> list.addEndpoints(EndpointInfo.newBuilder()
            .setId(e.id())
            .setIdentity(e.identity())
            .addAllLabels(identities.labels(e.identity()))
            .setIpv4(Ipv4.format(e.ip()))
            .setStatus("ready")
            .setHostInterface(e.hostInterface())
            .setIngressEnforced(e.ingressEnforced())
            .setEgressEnforced(e.egressEnforced())));
    reply(out, list.build());
  }

  @Override
  public void getClusterMeshStatus(ListRequest request, StreamObserver<ClusterMeshStatus> out) {
    ClusterMeshStatus status = mesh.status();
    if (!request.getCluster().isEmpty()) {
      ClusterMeshStatus.Builder b = status.toBuilder().clearRemotes();
      status.getRemotesList().stream().filter(r -> r.getName().equals(request.getCluster())).forEach(b::addRemotes);
      status = b.build();
    }
    reply(out, status);
  }

  private DatapathSnapshot snapshot(StreamObserver<?> out) {
    try {
      return datapath.snapshot();
    } catch (DatapathException e) {
      out.onError(Status.UNAVAILABLE.withDescription("reading the datapath failed: " + e.getMessage()).asRuntimeException());
      return null;
    }
  }

  private static <T> void reply(StreamObserver<T> out, T value) {
    out.onNext(value);
    out.onCompleted();
  }

}
