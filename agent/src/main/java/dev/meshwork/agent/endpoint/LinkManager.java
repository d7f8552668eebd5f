package dev.meshwork.agent.endpoint;

import java.util.List;

/**
 * Creates, verifies and removes the veth pairs of pods. Implementations: {@link NetlinkLinkManager}
 * (the default), {@link IpCommandLinkManager}; both pass {@code LinkManagerContract}.
 */
public interface LinkManager {
  /** Whether {@code ifname} exists in the namespace at {@code netns}; false when the namespace is gone. */
  boolean podInterfaceExists(String netns, String ifname) throws LinkException;

  /**
   * Creates the veth pair and configures both sides as {@link PodLink} describes. A host interface
   * of the same name is a leftover of this attachment (the name is derived from it) and is replaced.
   */
  void setUp(PodLink link) throws LinkException;

  /** Removes the host side (the kernel removes the pod side with it); absent is fine. */
  void remove(String hostInterface) throws LinkException;

  /** Compares the interfaces with {@code link}; returns one line per difference, empty when all is as set up. */
  List<String> verify(PodLink link) throws LinkException;
}
