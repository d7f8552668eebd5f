package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPortBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The EndpointSlices (discovery.k8s.io/v1) a Service with a selector should have: one endpoint
 * per selected pod that has an IP and has not finished, with conditions ready (pod Ready and not
 * terminating), serving (pod Ready) and terminating, its node and the node's zone. Ports are the
 * Service's ports with {@code targetPort} resolved for each pod (a name through the pod's
 * container ports; a pod without that port gets no entry for it, as in Kubernetes), and pods
 * whose resolved ports differ go into different slices. A Service that selects no pod gets one
 * slice without endpoints, so that consumers see "no backends" rather than "not synced".
 */
final class EndpointSlices {

  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  static final String MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
  static final String MANAGED_BY = "sandbox-kubelet.meshwork.dev";
  static final String ZONE_LABEL = "topology.kubernetes.io/zone";

  private EndpointSlices() {}

  static List<EndpointSlice> desired(Service service, Collection<Pod> podsInNamespace, Function<String, Node> nodes) {
    Map<List<EndpointPort>, List<Endpoint>> groups = new TreeMap<>(Comparator.comparing(EndpointSlices::portsKey));
    for (Pod pod : podsInNamespace) {
      if (!Pods.selects(service, pod) || Pods.podIp(pod) == null || Pods.isFinished(pod)) {
        continue;
      }
      groups.computeIfAbsent(resolvePorts(service, pod), p -> new ArrayList<>()).add(endpoint(pod, nodes));
    }
    if (groups.isEmpty()) {
      groups.put(resolvePorts(service, null), List.of());
    }
    List<EndpointSlice> slices = new ArrayList<>();
    groups.forEach(
        (ports, endpoints) -> {
          List<Endpoint> sorted = new ArrayList<>(endpoints);
          sorted.sort(Comparator.comparing(e -> e.getAddresses().getFirst()));
          slices.add(slice(service, ports, sorted));
        });
    return slices;
  }

  private static EndpointSlice slice(Service service, List<EndpointPort> ports, List<Endpoint> endpoints) {
    String serviceName = service.getMetadata().getName();
    Map<String, String> labels = new LinkedHashMap<>(Pods.labels(service));
    labels.put(SERVICE_NAME_LABEL, serviceName);
    labels.put(MANAGED_BY_LABEL, MANAGED_BY);
    String suffix = "-" + shortHash(portsKey(ports));
    String base = serviceName.length() + suffix.length() > 63 ? serviceName.substring(0, 63 - suffix.length()) : serviceName;
    return new EndpointSliceBuilder()
        .withNewMetadata()
        .withName(base + suffix)
        .withNamespace(service.getMetadata().getNamespace())
        .withLabels(labels)
        .withOwnerReferences(
            new OwnerReferenceBuilder()
                .withApiVersion("v1")
                .withKind("Service")
                .withName(serviceName)
                .withUid(service.getMetadata().getUid())
                .withController(true)
                .withBlockOwnerDeletion(true)
                .build())
        .endMetadata()
        .withAddressType("IPv4")
        .withPorts(ports)
        .withEndpoints(endpoints)
        .build();
  }

  private static Endpoint endpoint(Pod pod, Function<String, Node> nodes) {
    boolean ready = Pods.isReady(pod);
    boolean terminating = Pods.isTerminating(pod);
    String nodeName = Pods.nodeName(pod);
    Node node = nodeName == null ? null : nodes.apply(nodeName);
    String zone = node == null ? null : Pods.labels(node).get(ZONE_LABEL);
    return new EndpointBuilder()
        .withAddresses(Pods.podIp(pod))
        .withNewConditions()
        .withReady(ready && !terminating)
        .withServing(ready)
        .withTerminating(terminating)
        .endConditions()
        .withNodeName(nodeName)
        .withZone(zone)
        .withTargetRef(
            new ObjectReferenceBuilder()
                .withKind("Pod")
                .withNamespace(pod.getMetadata().getNamespace())
                .withName(pod.getMetadata().getName())
                .withUid(pod.getMetadata().getUid())
                .build())
        .build();
  }

  /** The Service's ports for one pod ({@code null}: no pod, only numeric targets resolve). */
  static List<EndpointPort> resolvePorts(Service service, Pod pod) {
    List<EndpointPort> ports = new ArrayList<>();
    if (service.getSpec().getPorts() == null) {
      return ports;
    }
    for (ServicePort port : service.getSpec().getPorts()) {
      Integer target = resolveTarget(port, pod);
      if (target == null) {
        continue;
      }
      ports.add(
          new EndpointPortBuilder()
              .withName(port.getName() == null ? "" : port.getName())
              .withPort(target)
              .withProtocol(port.getProtocol() == null ? "TCP" : port.getProtocol())
              .withAppProtocol(port.getAppProtocol())
              .build());
    }
    ports.sort(Comparator.comparing(EndpointPort::getName));
    return ports;
  }

  private static Integer resolveTarget(ServicePort port, Pod pod) {
    var target = port.getTargetPort();
    if (target == null || target.getValue() == null) {
      return port.getPort();
    }
    if (target.getValue() instanceof Integer number) {
      return number;
    }
    String name = target.getValue().toString();
    if (pod == null || pod.getSpec() == null || pod.getSpec().getContainers() == null) {
      return null;
    }
    for (var container : pod.getSpec().getContainers()) {
      for (ContainerPort declared : Objects.requireNonNullElse(container.getPorts(), List.<ContainerPort>of())) {
        if (name.equals(declared.getName()) && declared.getContainerPort() != null) {
          return declared.getContainerPort();
        }
      }
    }
    return null;
  }

  /**
   * What the controller compares to decide whether a slice needs writing: only the fields it
   * sets, so defaults the API server adds never cause an endless rewrite.
   */
  static String projection(EndpointSlice slice) {
    StringBuilder out = new StringBuilder();
    out.append(Pods.labels(slice)).append('|').append(slice.getAddressType()).append('|');
    var owners = slice.getMetadata().getOwnerReferences();
    out.append(owners == null ? "" : owners.stream().map(o -> o.getKind() + "/" + o.getName() + "/" + o.getUid()).toList());
    out.append('|').append(portsKey(Objects.requireNonNullElse(slice.getPorts(), List.of()))).append('|');
    List<Endpoint> endpoints = new ArrayList<>(Objects.requireNonNullElse(slice.getEndpoints(), List.of()));
    for (Endpoint e : endpoints.stream().sorted(Comparator.comparing(e -> String.valueOf(e.getAddresses()))).toList()) {
      var c = e.getConditions();
      var ref = e.getTargetRef();
      out.append(e.getAddresses()).append(',')
          .append(c == null ? null : c.getReady()).append(',')
          .append(c == null ? null : c.getServing()).append(',')
          .append(c == null ? null : c.getTerminating()).append(',')
          .append(e.getNodeName()).append(',').append(e.getZone()).append(',')
          .append(ref == null ? null : ref.getName() + "/" + ref.getUid()).append(';');
    }
    return out.toString();
  }

  private static String portsKey(List<EndpointPort> ports) {
    return ports.stream()
        .map(p -> p.getName() + ":" + p.getPort() + "/" + p.getProtocol() + "/" + p.getAppProtocol())
        .collect(Collectors.joining(","));
  }

  private static String shortHash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 3).substring(0, 5);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
