package dev.meshwork.agent.endpoint;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** How the agent makes pods' veth pairs ({@code --endpoint-links}). */
public enum EndpointLinks {
  /** rtnetlink from the agent's JVM ({@link NetlinkLinkManager}): no process per ADD. */
  NETLINK,
  /** iproute2's {@code ip} through {@code nsenter} ({@link IpCommandLinkManager}): two or three processes per ADD. */
  IP;

  /** The link manager for a node in {@code nodeNetns}, or in the agent's own namespace when empty. */
  public LinkManager linkManager(Optional<Path> nodeNetns) {
    return switch (this) {
      case NETLINK -> new NetlinkLinkManager(nodeNetns);
      case IP -> new IpCommandLinkManager(nodeNetns.map(ns -> List.of("nsenter", "--net=" + ns)).orElse(List.of()));
    };
  }
}
