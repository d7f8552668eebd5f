package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Service;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * The contents of a pod's {@code /etc/netns/<netns>/hosts} and {@code resolv.conf}. There is no
 * cluster DNS server in the sandbox, so the hosts file lists every Service of the cluster that
 * has a ClusterIP under {@code <svc>.<ns>.svc.cluster.local}, {@code <svc>.<ns>.svc} and {@code
 * <svc>.<ns>}, plus the bare {@code <svc>} for Services of the pod's own namespace (what the
 * search path would give; the hosts file is not searched). resolv.conf carries the search path
 * Kubernetes gives the pod and points at 127.0.0.1 in the pod, where nothing answers, so no name
 * query ever leaves the pod's namespace.
 */
final class NameFiles {

  static final String CLUSTER_DOMAIN = "cluster.local";

  private NameFiles() {}

  static String hosts(String clusterName, String namespace, String podName, String podIp, Collection<Service> services) {
    StringBuilder out = new StringBuilder();
    out.append("# Written by the meshwork sandbox kubelet shim for pod ")
        .append(namespace).append('/').append(podName)
        .append(" of cluster ").append(clusterName).append(".\n");
    out.append("127.0.0.1\tlocalhost\n");
    out.append("::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (podIp != null) {
      out.append(podIp).append('\t').append(podName).append('\n');
    }
    List<Service> sorted =
        services.stream()
            .filter(NameFiles::hasClusterIp)
            .sorted(Comparator.comparing(Pods::key))
            .toList();
    for (Service service : sorted) {
      String name = service.getMetadata().getName();
      String ns = service.getMetadata().getNamespace();
      out.append(service.getSpec().getClusterIP()).append('\t')
          .append(name).append('.').append(ns).append(".svc.").append(CLUSTER_DOMAIN).append(' ')
          .append(name).append('.').append(ns).append(".svc ")
          .append(name).append('.').append(ns);
      if (ns.equals(namespace)) {
        out.append(' ').append(name);
      }
      out.append('\n');
    }
    return out.toString();
  }

  static String resolvConf(String namespace) {
    return "# Written by the meshwork sandbox kubelet shim: there is no cluster DNS server;\n"
        + "# Service names resolve through this namespace's hosts file.\n"
        + "search " + namespace + ".svc." + CLUSTER_DOMAIN + " svc." + CLUSTER_DOMAIN + " " + CLUSTER_DOMAIN + "\n"
        + "nameserver 127.0.0.1\n"
        + "options ndots:5\n";
  }

  private static boolean hasClusterIp(Service service) {
    String ip = service.getSpec() == null ? null : service.getSpec().getClusterIP();
    return ip != null && !ip.isEmpty() && !ip.equals("None");
  }
}
