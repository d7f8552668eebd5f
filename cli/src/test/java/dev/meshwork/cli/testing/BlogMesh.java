package dev.meshwork.cli.testing;

import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.EndpointInfo;
import dev.meshwork.proto.v1.EndpointList;
import dev.meshwork.proto.v1.IdentityInfo;
import dev.meshwork.proto.v1.IdentityList;
import dev.meshwork.proto.v1.LoadBalancerEntry;
import dev.meshwork.proto.v1.LoadBalancerEntryList;
import dev.meshwork.proto.v1.NodeInfo;
import dev.meshwork.proto.v1.NodeList;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import dev.meshwork.proto.v1.ServiceBackendInfo;
import dev.meshwork.proto.v1.ServiceInfo;
import dev.meshwork.proto.v1.ServiceList;
import dev.meshwork.proto.v1.TunnelEntry;
import dev.meshwork.proto.v1.TunnelList;
import java.util.List;

/**
 * What the agent on a node of the blog's k8s-test-cluster knows once it is meshed with
 * k8s-shared-cluster: two nodes per cluster (pod CIDRs 10.1.x and 10.2.x), backend-svc whose only
 * backends are the shared cluster's two pods, the frontend and backend identities.
 */
public final class BlogMesh {

  public static final String TEST = "k8s-test-cluster";
  public static final String SHARED = "k8s-shared-cluster";

  private BlogMesh() {}

  public static void serveFrom(FakeAgent agent) {
    agent.nodes = nodes();
    agent.tunnels = tunnels();
    agent.services = services();
    agent.lbEntries = lbEntries();
    agent.identities = identities();
    agent.endpoints = endpoints();
    agent.clusterMesh = clusterMesh();
  }

  public static NodeList nodes() {
    return NodeList.newBuilder()
        .addNodes(node(SHARED, "ip-192-168-19-207.us-west-2.compute.internal", "192.168.19.207", "10.2.1.0/24", "clustermesh", false))
        .addNodes(node(TEST, "ip-192-168-2-234.us-west-2.compute.internal", "192.168.2.234", "10.1.0.0/24", "local", true))
        .addNodes(node(SHARED, "ip-192-168-18-202.us-west-2.compute.internal", "192.168.18.202", "10.2.0.0/24", "clustermesh", false))
        .addNodes(node(TEST, "ip-192-168-10-19.us-west-2.compute.internal", "192.168.10.19", "10.1.1.0/24", "kvstore", true))
        .build();
  }

  public static TunnelList tunnels() {
    return TunnelList.newBuilder()
        .addTunnels(TunnelEntry.newBuilder().setPrefix("10.2.1.0/24").setTunnelEndpoint("192.168.19.207").setCluster(SHARED))
        .addTunnels(TunnelEntry.newBuilder().setPrefix("10.1.1.0/24").setTunnelEndpoint("192.168.10.19").setCluster(TEST))
        .addTunnels(TunnelEntry.newBuilder().setPrefix("10.2.0.0/24").setTunnelEndpoint("192.168.18.202").setCluster(SHARED))
        .build();
  }

  public static ServiceList services() {
    return ServiceList.newBuilder()
        .addServices(
            ServiceInfo.newBuilder()
                .setId(7).setNamespace("testing").setName("backend-svc").setFrontend("10.100.3.165:80/TCP")
                .setType("ClusterIP").setGlobal(true)
                .addBackends(backend("10.2.0.163:3000/TCP", SHARED))
                .addBackends(backend("10.2.1.87:3000/TCP", SHARED)))
        .addServices(
            ServiceInfo.newBuilder()
                .setId(1).setNamespace("default").setName("kubernetes").setFrontend("10.100.0.1:443/TCP")
                .setType("ClusterIP")
                .addBackends(backend("192.168.2.10:443/TCP", TEST)))
        .build();
  }

  public static LoadBalancerEntryList lbEntries() {
    return LoadBalancerEntryList.newBuilder()
        .addEntries(lb("10.100.3.165:80/TCP", "10.2.1.87:3000/TCP", 7, 2))
        .addEntries(lb("10.100.3.165:80/TCP", "", 7, 0))
        .addEntries(lb("10.100.3.165:80/TCP", "10.2.0.163:3000/TCP", 7, 1))
        .addEntries(lb("10.100.0.1:443/TCP", "", 1, 0))
        .addEntries(lb("10.100.0.1:443/TCP", "192.168.2.10:443/TCP", 1, 1))
        .build();
  }

  public static final int FRONTEND_IDENTITY = 1 << 16 | 257;
  public static final int BACKEND_IDENTITY = 2 << 16 | 257;

  public static IdentityList identities() {
    return IdentityList.newBuilder()
        .addIdentities(IdentityInfo.newBuilder().setId(BACKEND_IDENTITY).setCluster(SHARED)
            .addAllLabels(podLabels("backend", "database-service", SHARED)))
        .addIdentities(IdentityInfo.newBuilder().setId(1).setCluster("reserved").addLabels("reserved:host"))
        .addIdentities(IdentityInfo.newBuilder().setId(FRONTEND_IDENTITY).setCluster(TEST)
            .addAllLabels(podLabels("frontend", "web-service", TEST)))
        .addIdentities(IdentityInfo.newBuilder().setId(2).setCluster("reserved").addLabels("reserved:world"))
        .build();
  }

  public static EndpointList endpoints() {
    return EndpointList.newBuilder()
        .addEndpoints(EndpointInfo.newBuilder().setId(1034).setIdentity(FRONTEND_IDENTITY)
            .addAllLabels(podLabels("frontend", "web-service", TEST)).setIpv4("10.1.0.97").setStatus("ready")
            .setPodNamespace("testing").setPodName("frontend-6d8f7c9b5-x2x7q").setContainerId("4f2a")
            .setHostInterface("mw4f2a").setIngressEnforced(false).setEgressEnforced(false))
        .addEndpoints(EndpointInfo.newBuilder().setId(211).setIdentity(4).addLabels("reserved:health")
            .setIpv4("10.1.0.12").setStatus("ready").setIngressEnforced(true).setEgressEnforced(false))
        .build();
  }

  public static ClusterMeshStatus clusterMesh() {
    return ClusterMeshStatus.newBuilder()
        .setLocalCluster(TEST).setLocalClusterId(1).setSource("direct")
        .addRemotes(RemoteClusterStatus.newBuilder().setName(SHARED).setId(2).setConnected(true).setReady(true)
            .setNodes(2).setEndpoints(2).setIdentities(1).setServices(1).setReconnections(1)
            .setLastFailure("etcd https://k8s-shared-cluster.mesh.meshwork.dev:2379: connection refused")
            .setLastFailureMillis(1_781_000_000_000L).setStatus("ready")
            .addAllSyncedKinds(List.of("nodes", "services", "identities", "ipcache")))
        .addRemotes(RemoteClusterStatus.newBuilder().setName("k8s-other-cluster").setConnected(true).setReady(false)
            .setStatus("refused: cluster id 1 is also used by k8s-test-cluster"))
        .build();
  }

  private static NodeInfo node(String cluster, String name, String ip, String cidr, String source, boolean local) {
    return NodeInfo.newBuilder().setCluster(cluster).setName(name).setIpv4Address(ip).addEndpointCidrs(cidr)
        .setSource(source).setLocalCluster(local).build();
  }

  private static ServiceBackendInfo backend(String address, String cluster) {
    return ServiceBackendInfo.newBuilder().setAddress(address).setCluster(cluster).setState("active").build();
  }

  private static LoadBalancerEntry lb(String frontend, String backend, int revNat, int slot) {
    return LoadBalancerEntry.newBuilder().setServiceAddress(frontend).setBackendAddress(backend)
        .setRevNatId(revNat).setSlot(slot).build();
  }

  private static List<String> podLabels(String app, String role, String cluster) {
    return List.of(
        "k8s:app=" + app,
        "k8s:io.cilium.k8s.policy.cluster=" + cluster,
        "k8s:io.cilium.k8s.policy.serviceaccount=default",
        "k8s:io.kubernetes.pod.namespace=testing",
        "k8s:role=" + role);
  }
}
