package dev.meshwork.agent.endpoint;

import java.util.List;
import java.util.Objects;

/**
 * What the agent remembers about one attachment, persisted in the state directory so that a
 * restarted agent knows every address it handed out and every endpoint it programmed.
 *
 * @param phase {@link Phase#RESERVED} from the moment the address is taken until the interface
 *     and the datapath are set up; a RESERVED record found at start-up is a crashed ADD whose
 *     address stays taken until DEL or GC
 * @param identity 0 until the identity is known
 */
public record EndpointRecord(
    AttachmentKey key,
    String networkName,
    String netns,
    PodRef pod,
    long endpointId,
    int ip,
    String hostInterface,
    String hostMac,
    String podMac,
    int mtu,
    int identity,
    List<String> labels,
    Phase phase) {

  public enum Phase {
    RESERVED,
    READY
  }

  public EndpointRecord {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(networkName, "networkName");
    Objects.requireNonNull(netns, "netns");
    Objects.requireNonNull(pod, "pod");
    Objects.requireNonNull(hostInterface, "hostInterface");
    Objects.requireNonNull(hostMac, "hostMac");
    Objects.requireNonNull(podMac, "podMac");
    labels = List.copyOf(labels);
    Objects.requireNonNull(phase, "phase");
  }

  public EndpointRecord ready(PodIdentity podIdentity) {
    return new EndpointRecord(key, networkName, netns, pod, endpointId, ip, hostInterface, hostMac,
        podMac, mtu, podIdentity.id(), podIdentity.labels(), Phase.READY);
  }
}
