package dev.meshwork.agent.service.kubernetes;

import dev.meshwork.agent.service.Affinity;
import dev.meshwork.agent.service.BackendRecord;
import dev.meshwork.agent.service.ClusterServiceRecord;
import dev.meshwork.agent.service.FrontendSpec;
import dev.meshwork.agent.service.ServicePortSpec;
import dev.meshwork.common.service.GlobalServiceAnnotations;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.Protocol;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a local Service and its EndpointSlices into the agent's {@link ClusterServiceRecord}.
 * Pure: no I/O, no state.
 *
 * <ul>
 *   <li>ExternalName and headless Services ({@code clusterIP: None}) have nothing to load-balance:
 *       {@link Skipped}.
 *   <li>Frontends: the IPv4 ClusterIPs, external IPs and load-balancer ingress IPs; node ports.
 *   <li>Backends: the IPv4 addresses of every slice labelled with the Service's name (also for a
 *       Service without a selector, whose slices are written by someone else), with their
 *       ready/serving/terminating conditions (nil ready or serving means true). A service port
 *       is matched to a slice port by name and protocol, so a named target port arrives already
 *       resolved to the pod's number. An address in several slices is taken once (slices in
 *       name order, the last one wins).
 *   <li>A value the datapath cannot use (an address that is not IPv4, a port outside 1..65535)
 *       makes the whole Service {@link Rejected}, with the reason naming the field and object.
 * </ul>
 */
public final class ServiceTranslation {
  private ServiceTranslation() {}

  /** What became of a Service. */
  public sealed interface Result {}

  /** Programmed as {@code record}; {@code warnings} name annotations whose default was used. */
  public record Accepted(ClusterServiceRecord record, List<String> warnings) implements Result {}

  /** Nothing to program (and nothing wrong). */
  public record Skipped(String why) implements Result {}

  /** Unusable; whatever was programmed for it before stays. */
  public record Rejected(String why) implements Result {}

  public static Result translate(String cluster, Service service, Collection<EndpointSlice> slices) {
    var spec = service.getSpec();
    String type = spec == null || spec.getType() == null ? "ClusterIP" : spec.getType();
    if (type.equals("ExternalName")) {
      return new Skipped("ExternalName service: resolved by DNS, nothing to load-balance");
    }
    if ("None".equals(spec.getClusterIP())) {
      return new Skipped("headless service (clusterIP: None): nothing to load-balance");
    }
    var annotations = GlobalServiceAnnotations.parse(service.getMetadata().getAnnotations());
    try {
      List<FrontendSpec> frontends = new ArrayList<>();
      List<String> clusterIps =
          spec.getClusterIPs() != null && !spec.getClusterIPs().isEmpty()
              ? spec.getClusterIPs()
              : spec.getClusterIP() == null ? List.of() : List.of(spec.getClusterIP());
      for (String ip : clusterIps) {
        addFrontend(frontends, "spec.clusterIPs", ip, dev.meshwork.datapath.Service.Kind.CLUSTER_IP);
      }
      for (String ip : nullToEmpty(spec.getExternalIPs())) {
        addFrontend(frontends, "spec.externalIPs", ip, dev.meshwork.datapath.Service.Kind.EXTERNAL_IP);
      }
      if (service.getStatus() != null
          && service.getStatus().getLoadBalancer() != null
          && service.getStatus().getLoadBalancer().getIngress() != null) {
        for (var ingress : service.getStatus().getLoadBalancer().getIngress()) {
          if (ingress.getIp() != null) {
            addFrontend(
                frontends, "status.loadBalancer.ingress", ingress.getIp(), dev.meshwork.datapath.Service.Kind.LOAD_BALANCER);
          }
        }
      }
      List<ServicePortSpec> ports = new ArrayList<>();
      for (ServicePort p : nullToEmpty(spec.getPorts())) {
        String name = p.getName() == null ? "" : p.getName();
        int port = p.getPort() == null ? 0 : p.getPort();
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException("port '" + name + "' is " + port + ", outside 1..65535");
        }
        int nodePort = p.getNodePort() == null ? 0 : p.getNodePort();
        if (nodePort < 0 || nodePort > 65535) {
          throw new IllegalArgumentException("nodePort of port '" + name + "' is " + nodePort + ", outside 1..65535");
        }
        ports.add(new ServicePortSpec(name.intern(), port, protocol(p.getProtocol()), nodePort));
      }
      int affinityTimeout = 0;
      if ("ClientIP".equals(spec.getSessionAffinity())) {
        Integer timeout =
            spec.getSessionAffinityConfig() != null && spec.getSessionAffinityConfig().getClientIP() != null
                ? spec.getSessionAffinityConfig().getClientIP().getTimeoutSeconds()
                : null;
        affinityTimeout = timeout == null ? 10800 : timeout; // Kubernetes' default: three hours
      }
      ClusterServiceRecord record =
          new ClusterServiceRecord(
              cluster,
              service.getMetadata().getNamespace().intern(),
              service.getMetadata().getName().intern(),
              annotations.global(),
              annotations.shared(),
              Affinity.of(annotations.affinity()),
              affinityTimeout,
              frontends,
              ports,
              backends(ports, slices));
      return new Accepted(
          record, annotations.problems().stream().map(GlobalServiceAnnotations.InvalidAnnotation::message).toList());
    } catch (IllegalArgumentException e) {
      return new Rejected(e.getMessage());
    }
  }

  private static void addFrontend(
      List<FrontendSpec> frontends, String field, String ip, dev.meshwork.datapath.Service.Kind kind) {
    if (ip == null || ip.isBlank() || ip.equals("None") || ip.indexOf(':') >= 0) {
      return; // IPv6 frontends are not served by this datapath
    }
    try {
      frontends.add(new FrontendSpec(Ipv4.parse(ip), kind));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + " '" + ip + "' is not an IPv4 address", e);
    }
  }

  private static List<BackendRecord> backends(List<ServicePortSpec> ports, Collection<EndpointSlice> slices) {
    Map<Integer, BackendRecord> byIp = new TreeMap<>(Integer::compareUnsigned);
    List<EndpointSlice> ordered =
        slices.stream().sorted(Comparator.comparing(s -> s.getMetadata().getName())).toList();
    for (EndpointSlice slice : ordered) {
      if (slice.getAddressType() != null && !"IPv4".equals(slice.getAddressType())) {
        continue;
      }
      int[] targets = new int[ports.size()];
      for (int i = 0; i < ports.size(); i++) {
        for (EndpointPort sp : nullToEmpty(slice.getPorts())) {
          String name = sp.getName() == null ? "" : sp.getName();
          if (sp.getPort() != null && name.equals(ports.get(i).name())
              && protocol(sp.getProtocol()) == ports.get(i).protocol()) {
            targets[i] = sp.getPort();
          }
        }
      }
      for (Endpoint endpoint : nullToEmpty(slice.getEndpoints())) {
        var conditions = endpoint.getConditions();
        boolean ready = conditions == null || conditions.getReady() == null || conditions.getReady();
        boolean serving = conditions == null || conditions.getServing() == null ? ready : conditions.getServing();
        boolean terminating = conditions != null && Boolean.TRUE.equals(conditions.getTerminating());
        for (String address : nullToEmpty(endpoint.getAddresses())) {
          int ip;
          try {
            ip = Ipv4.parse(address);
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                "EndpointSlice " + slice.getMetadata().getName() + ": address '" + address + "' is not an IPv4 address", e);
          }
          byIp.put(ip, new BackendRecord(ip, ready, serving, terminating, targets));
        }
      }
    }
    return List.copyOf(byIp.values());
  }

  static Protocol protocol(String protocol) {
    return switch (protocol == null ? "TCP" : protocol.toUpperCase(Locale.ROOT)) {
      case "UDP" -> Protocol.UDP;
      case "SCTP" -> Protocol.SCTP;
      default -> Protocol.TCP;
    };
  }

  private static <T> List<T> nullToEmpty(List<T> list) {
    return list == null ? List.of() : list;
  }
}
