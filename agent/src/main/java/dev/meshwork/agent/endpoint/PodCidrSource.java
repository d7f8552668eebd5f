package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.IpPrefix;

/** Where this node's pod CIDR comes from: a setting, or the node's MeshNode ({@link MeshNodePodCidr}). */
@FunctionalInterface
public interface PodCidrSource {
  /**
   * The pod CIDR, waiting for it if it is not known yet.
   *
   * @throws PodCidrUnavailableException when it is still unknown after the source's timeout
   * @throws InterruptedException if the waiting thread is interrupted
   */
  IpPrefix await() throws PodCidrUnavailableException, InterruptedException;

  /** A CIDR given by the operator of the node ({@code --pod-cidr}). */
  static PodCidrSource fixed(IpPrefix cidr) {
    return () -> cidr;
  }
}
