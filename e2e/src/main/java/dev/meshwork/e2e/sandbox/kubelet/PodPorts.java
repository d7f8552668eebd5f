package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

/**
 * The TCP ports a pod's server listens on. A pod that declares container ports gets one server
 * per declared TCP {@code containerPort}. A pod that declares none (like the blog's Deployment
 * fragments, which have no containers) gets one per numeric {@code targetPort} (or {@code port}
 * when no target is given) of the TCP ports of the Services in its namespace that select it; a
 * named {@code targetPort} cannot be resolved without container ports and is skipped.
 */
final class PodPorts {

  private PodPorts() {}

  static Set<Integer> of(Pod pod, Collection<Service> servicesInNamespace) {
    Set<Integer> declared = new TreeSet<>();
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container container : pod.getSpec().getContainers()) {
        if (container.getPorts() == null) {
          continue;
        }
        for (ContainerPort port : container.getPorts()) {
          if (port.getContainerPort() != null && isTcp(port.getProtocol())) {
            declared.add(port.getContainerPort());
          }
        }
      }
    }
    if (!declared.isEmpty()) {
      return declared;
    }
    Set<Integer> fromServices = new TreeSet<>();
    for (Service service : servicesInNamespace) {
      if (!Pods.selects(service, pod) || service.getSpec().getPorts() == null) {
        continue;
      }
      for (ServicePort port : service.getSpec().getPorts()) {
        if (!isTcp(port.getProtocol())) {
          continue;
        }
        var target = port.getTargetPort();
        if (target == null || (target.getValue() == null)) {
          if (port.getPort() != null) {
            fromServices.add(port.getPort());
          }
        } else if (target.getValue() instanceof Integer number) {
          fromServices.add(number);
        }
      }
    }
    return fromServices;
  }

  static boolean isTcp(String protocol) {
    return protocol == null || protocol.equals("TCP");
  }
}
