package dev.meshwork.e2e.sandbox;

import java.nio.file.Path;

/**
 * The layout of a sandbox's run directory (default {@code /run/meshwork-sandbox}): everything the
 * sandbox writes lives here, so {@code down} finds it again even after a crash.
 *
 * <pre>
 * mesh.yaml                 the mesh that was brought up
 * prefix                    the name prefix of namespaces, links and bpffs pins
 * resources                 the cleanup journal (see {@link Journal})
 * progress                  step-by-step progress of `up`, ending in "ready" or "failed: ..."
 * daemon.log                the daemon's log (API servers, kubelet shim)
 * ca/CLUSTER/               each etcd's CA, server and local client certificates
 * mesh/CLUSTER/clustermesh/ the clustermesh config directory of CLUSTER's agents (other clusters)
 * clusters/CLUSTER/         kubeconfig, kvstore.yaml, etcd data and log, operator.log, kvstore-sync.log
 *                           (cache mode), pods (kubelet shim)
 * nodes/NODE/               agent.sock, agent.log, endpoints/, net.d/05-meshwork.conflist, cni.log
 * cni/bin/meshwork-cni      the installed CNI launcher
 * </pre>
 */
public record RunDir(Path root) {

  public static final Path DEFAULT = Path.of("/run/meshwork-sandbox");

  public RunDir {
    root = root.toAbsolutePath().normalize();
  }

  public Path meshFile() {
    return root.resolve("mesh.yaml");
  }

  public Path prefixFile() {
    return root.resolve("prefix");
  }

  public Path journal() {
    return root.resolve("resources");
  }

  public Path progress() {
    return root.resolve("progress");
  }

  public Path daemonLog() {
    return root.resolve("daemon.log");
  }

  public Path caDir(String cluster) {
    return root.resolve("ca").resolve(cluster);
  }

  public Path meshOut() {
    return root.resolve("mesh");
  }

  public Path clustermeshDir(String cluster) {
    return meshOut().resolve(cluster).resolve("clustermesh");
  }

  public Path cluster(String cluster) {
    return root.resolve("clusters").resolve(cluster);
  }

  public Path kubeconfig(String cluster) {
    return cluster(cluster).resolve("kubeconfig");
  }

  public Path kvstoreConfig(String cluster) {
    return cluster(cluster).resolve("kvstore.yaml");
  }

  /** The kubelet shim's directory of a cluster: pod records, pids, logs. */
  public Path pods(String cluster) {
    return cluster(cluster).resolve("pods");
  }

  public Path node(String node) {
    return root.resolve("nodes").resolve(node);
  }

  public Path agentSocket(String node) {
    return node(node).resolve("agent.sock");
  }

  public Path netConfDir(String node) {
    return node(node).resolve("net.d");
  }

  public Path cniBinDir() {
    return root.resolve("cni").resolve("bin");
  }
}
