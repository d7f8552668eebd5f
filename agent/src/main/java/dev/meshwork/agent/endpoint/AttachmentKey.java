package dev.meshwork.agent.endpoint;

import java.util.Objects;

/** One interface of one container: the unit a CNI runtime adds, checks and deletes. */
public record AttachmentKey(String containerId, String ifname) {
  public AttachmentKey {
    Objects.requireNonNull(containerId, "containerId");
    Objects.requireNonNull(ifname, "ifname");
  }

  @Override
  public String toString() {
    return "container " + containerId + " interface " + ifname;
  }
}
