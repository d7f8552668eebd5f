package dev.meshwork.cni.agent;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One CNI invocation as the agent receives it (agent.proto's CniRequest).
 *
 * @param configJson the network configuration exactly as received on stdin
 * @param validAttachments GC's {@code cni.dev/valid-attachments}; empty for other verbs
 */
public record AgentRequest(
    String containerId,
    String netns,
    String ifname,
    Map<String, String> args,
    String networkName,
    String cniVersion,
    byte[] configJson,
    List<Attachment> validAttachments) {

  /** A container attachment: one interface of one container. */
  public record Attachment(String containerId, String ifname) {}

  public AgentRequest {
    args = Collections.unmodifiableMap(new LinkedHashMap<>(args));
    configJson = configJson.clone();
    validAttachments = List.copyOf(validAttachments);
  }

  @Override
  public byte[] configJson() {
    return configJson.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof AgentRequest r
        && containerId.equals(r.containerId)
        && netns.equals(r.netns)
        && ifname.equals(r.ifname)
        && args.equals(r.args)
        && networkName.equals(r.networkName)
        && cniVersion.equals(r.cniVersion)
        && java.util.Arrays.equals(configJson, r.configJson)
        && validAttachments.equals(r.validAttachments);
  }

  @Override
  public int hashCode() {
    return java.util.Objects.hash(containerId, netns, ifname, args, networkName, cniVersion,
        java.util.Arrays.hashCode(configJson), validAttachments);
  }

  @Override
  public String toString() {
    return "AgentRequest[containerId=" + containerId + ", netns=" + netns + ", ifname=" + ifname
        + ", args=" + args + ", networkName=" + networkName + ", cniVersion=" + cniVersion
        + ", configJson=" + configJson.length + " bytes, validAttachments=" + validAttachments
        + "]";
  }
}
