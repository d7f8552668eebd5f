package dev.meshwork.agent.endpoint;

import java.nio.file.Path;
import java.util.Optional;

/** The link manager contract with iproute2's {@code ip} ({@code --endpoint-links=ip}). */
class IpCommandLinkManagerPrivilegedIT extends KernelLinkManagerContract {
  @Override
  LinkManager linkManagerFor(Path nodeNetns) {
    return EndpointLinks.IP.linkManager(Optional.of(nodeNetns));
  }
}
