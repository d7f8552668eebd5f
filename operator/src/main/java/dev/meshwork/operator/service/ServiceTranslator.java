package dev.meshwork.operator.service;

import dev.meshwork.common.service.GlobalServiceAnnotations;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.proto.v1.Backend;
import dev.meshwork.proto.v1.BackendPort;
import dev.meshwork.proto.v1.ClusterService;
import dev.meshwork.proto.v1.Frontend;
import dev.meshwork.proto.v1.FrontendType;
import dev.meshwork.proto.v1.Protocol;
import dev.meshwork.proto.v1.ServicePort;
import dev.meshwork.proto.v1.ServiceType;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/** Turns a global Service and its EndpointSlices into the ClusterService contract. Pure. */
public final class ServiceTranslator {

  private ServiceTranslator() {}

  public static ClusterService translate(
      LocalCluster cluster,
      Service service,
      GlobalServiceAnnotations annotations,
      Collection<EndpointSlice> slices) {
    var spec = service.getSpec();
    var builder =
        ClusterService.newBuilder()
            .setCluster(cluster.name())
            .setClusterId(cluster.id())
            .setNamespace(service.getMetadata().getNamespace())
            .setName(service.getMetadata().getName())
            .setShared(annotations.shared())
            .setAffinity(annotations.affinity())
            .setType(type(spec.getType()));
    List<String> clusterIps =
        spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
            ? spec.getClusterIPs()
            : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
    for (String ip : clusterIps) {
      if (!ip.isBlank() && !"None".equals(ip)) {
        builder.addFrontends(Frontend.newBuilder().setIp(ip).setType(FrontendType.FRONTEND_TYPE_CLUSTER_IP));
      }
    }
    if (spec.getExternalIPs() != null) {
      for (String ip : spec.getExternalIPs()) {
        builder.addFrontends(Frontend.newBuilder().setIp(ip).setType(FrontendType.FRONTEND_TYPE_EXTERNAL_IP));
      }
    }
    if (service.getStatus() != null
        && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null) {
      for (var ingress : service.getStatus().getLoadBalancer().getIngress()) {
        if (ingress.getIp() != null) {
          builder.addFrontends(
              Frontend.newBuilder().setIp(ingress.getIp()).setType(FrontendType.FRONTEND_TYPE_LOAD_BALANCER));
        }
      }
    }
    if (spec.getPorts() != null) {
      for (var port : spec.getPorts()) {
        builder.addPorts(
            ServicePort.newBuilder()
                .setName(port.getName() == null ? "" : port.getName())
                .setPort(port.getPort())
                .setProtocol(protocol(port.getProtocol()))
                .setNodePort(port.getNodePort() == null ? 0 : port.getNodePort()));
      }
    }
    if ("ClientIP".equals(spec.getSessionAffinity())) {
      Integer timeout =
          spec.getSessionAffinityConfig() != null
                  && spec.getSessionAffinityConfig().getClientIP() != null
              ? spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds()
              : null;
      // Kubernetes' default ClientIP timeout is three hours.
      builder.setSessionAffinityTimeoutSeconds(timeout == null ? 10800 : timeout);
    }
    builder.addAllBackends(backends(slices));
    return builder.build();
  }

  /** Backends by address, sorted, merged across slices (an address may move between slices). */
  static Collection<Backend> backends(Collection<EndpointSlice> slices) {
    Map<String, Backend> byIp = new TreeMap<>();
    List<EndpointSlice> ordered =
        slices.stream().sorted(Comparator.comparing(s -> s.getMetadata().getName())).toList();
    for (EndpointSlice slice : ordered) {
      if (slice.getAddressType() != null && !"IPv4".equals(slice.getAddressType())) {
        continue;
      }
      Map<String, BackendPort> ports = new TreeMap<>();
      if (slice.getPorts() != null) {
        for (var port : slice.getPorts()) {
          if (port.getPort() == null) {
            continue;
          }
          ports.put(
              port.getName() == null ? "" : port.getName(),
              BackendPort.newBuilder().setPort(port.getPort()).setProtocol(protocol(port.getProtocol())).build());
        }
      }
      if (slice.getEndpoints() == null) {
        continue;
      }
      for (Endpoint endpoint : slice.getEndpoints()) {
        var conditions = endpoint.getConditions();
        // EndpointSlice semantics: an unknown (nil) ready or serving means ready.
        boolean ready = conditions == null || conditions.getReady() == null || conditions.getReady();
        boolean serving =
            conditions == null || conditions.getServing() == null ? ready : conditions.getServing();
        boolean terminating =
            conditions != null && conditions.getTerminating() != null && conditions.getTerminating();
        for (String ip : endpoint.getAddresses()) {
          byIp.put(
              ip,
              Backend.newBuilder()
                  .setIp(ip)
                  .putAllPorts(ports)
                  .setReady(ready)
                  .setServing(serving)
                  .setTerminating(terminating)
                  .setZone(endpoint.getZone() == null ? "" : endpoint.getZone())
                  .setNodeName(endpoint.getNodeName() == null ? "" : endpoint.getNodeName())
                  .build());
        }
      }
    }
    return byIp.values();
  }

  private static ServiceType type(String type) {
    return switch (type == null ? "ClusterIP" : type) {
      case "NodePort" -> ServiceType.SERVICE_TYPE_NODE_PORT;
      case "LoadBalancer" -> ServiceType.SERVICE_TYPE_LOAD_BALANCER;
      default -> ServiceType.SERVICE_TYPE_CLUSTER_IP;
    };
  }

  private static Protocol protocol(String protocol) {
    return switch (protocol == null ? "TCP" : protocol.toUpperCase(Locale.ROOT)) {
      case "UDP" -> Protocol.PROTOCOL_UDP;
      case "SCTP" -> Protocol.PROTOCOL_SCTP;
      default -> Protocol.PROTOCOL_TCP;
    };
  }
}
