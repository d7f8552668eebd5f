package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.datapath.IpPrefix;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What kubelet and the controller manager would do for one sandbox cluster, against that
 * cluster's Kubernetes API: ClusterIPs for Services, Pods for Deployments, scheduling, and for
 * every pod on one of {@link Settings#nodes} a network namespace attached by the real CNI plugin,
 * a server process answering with the pod's name, pod status and readiness, EndpointSlices and
 * {@code /etc/netns/<pod netns>/hosts}. See docs/sandbox-kubelet.md.
 */
public final class KubeletShim implements AutoCloseable {

  /**
   * @param clusterName used in logs, events and error messages
   * @param serviceCidr ClusterIPs come from here (not its network address, not its first address)
   * @param nodes the nodes pods are scheduled to, each with its CNI network configuration list
   * @param cniPlugin the {@code meshwork-cni} launcher; its directory is {@code CNI_PATH}
   * @param runDir this cluster's directory: pod records, pids, server logs
   * @param podNetnsPrefix every pod namespace is named {@code <podNetnsPrefix><8 hex digits>}
   */
  public record Settings(
      String clusterName,
      IpPrefix serviceCidr,
      List<NodeSpec> nodes,
      Path cniPlugin,
      Path runDir,
      String podNetnsPrefix) {

    public Settings {
      Objects.requireNonNull(clusterName, "clusterName");
      Objects.requireNonNull(serviceCidr, "serviceCidr of cluster " + clusterName);
      Objects.requireNonNull(nodes, "nodes of cluster " + clusterName);
      Objects.requireNonNull(cniPlugin, "cniPlugin of cluster " + clusterName);
      Objects.requireNonNull(runDir, "runDir of cluster " + clusterName);
      Objects.requireNonNull(podNetnsPrefix, "podNetnsPrefix of cluster " + clusterName);
      nodes = List.copyOf(nodes);
      if (nodes.isEmpty()) {
        throw new IllegalArgumentException("cluster " + clusterName + ": no nodes to schedule pods to");
      }
      Set<String> names = new HashSet<>();
      for (NodeSpec node : nodes) {
        if (!names.add(node.name())) {
          throw new IllegalArgumentException(
              "cluster " + clusterName + ": node " + node.name() + " is listed twice");
        }
      }
      if (serviceCidr.length() > 30) {
        throw new IllegalArgumentException(
            "cluster " + clusterName + ": service CIDR " + serviceCidr + " has no room for ClusterIPs");
      }
      if (!podNetnsPrefix.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")) {
        throw new IllegalArgumentException(
            "cluster " + clusterName + ": pod netns prefix \"" + podNetnsPrefix
                + "\" must be 1 to 32 letters, digits, '_', '.' or '-'");
      }
    }

    NodeSpec node(String name) {
      return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
  }

  /**
   * @param name the node's name (spec.nodeName of the pods scheduled to it)
   * @param cniConfList the node's {@code 05-meshwork.conflist}
   */
  public record NodeSpec(String name, Path cniConfList) {
    public NodeSpec {
      Objects.requireNonNull(name, "node name");
      Objects.requireNonNull(cniConfList, "cniConfList of node " + name);
    }
  }

  private final KubernetesClient api;
  private final Settings settings;

  public KubeletShim(KubernetesClient api, Settings settings) {
    this.api = Objects.requireNonNull(api, "api");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  /** Starts the informers and controllers; returns once the objects listed at start were handled. */
  public void start() {
    throw new UnsupportedOperationException("not implemented yet");
  }

  /**
   * Stops the controllers, then for every pod this shim runs: CNI DEL (with the ADD result as
   * {@code prevResult}), stops its processes, deletes its network namespace, its {@code
   * /etc/netns/<netns>} directory and its record. Objects in the API are left as they are.
   */
  @Override
  public void close() {}

  /**
   * After a crash: kills every recorded server process (if it is still the same process) and
   * deletes every recorded pod network namespace and {@code /etc/netns} directory, then the
   * records. CNI DEL is not called (the agents may be gone too).
   */
  public static void cleanUp(Path runDir) {
    Objects.requireNonNull(runDir, "runDir");
    api();
  }

  private static void api() {}
}
