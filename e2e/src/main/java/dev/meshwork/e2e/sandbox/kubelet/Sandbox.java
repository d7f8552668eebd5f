package dev.meshwork.e2e.sandbox.kubelet;

import java.nio.file.Path;

/**
 * One pod's sandbox on a node of this cluster: what the shim creates for it and records in the
 * run directory before creating it.
 *
 * @param uid the pod's uid: a pod deleted and created again under the same name gets a new sandbox
 * @param conflist the node's CNI network configuration list used for ADD and DEL
 * @param netns the name of the pod's network namespace ({@code /run/netns/<netns>})
 * @param containerId the sandbox id passed as {@code CNI_CONTAINERID} (64 hex digits, like containerd's)
 * @param dir the pod's directory in the run directory
 */
record Sandbox(
    String namespace,
    String name,
    String uid,
    String node,
    Path conflist,
    String netns,
    String containerId,
    Path dir) {

  /** {@code namespace/name}. */
  String key() {
    return namespace + "/" + name;
  }

  Path netnsPath() {
    return Path.of("/var/run/netns", netns);
  }

  @Override
  public String toString() {
    return "pod " + key() + " (netns " + netns + ", node " + node + ")";
  }
}
