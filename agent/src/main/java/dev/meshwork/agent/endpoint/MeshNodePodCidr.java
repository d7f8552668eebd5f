package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.IpPrefix;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's pod CIDR from its {@code MeshNode} ({@code meshwork.dev/v1alpha1}, cluster-scoped,
 * named like the node), which the operator's cluster-pool IPAM writes: the first valid IPv4 entry
 * of {@code spec.podCIDRs}. Read as a generic resource, so the agent needs no operator classes.
 * {@link #await} polls until the operator has written it, logging while it waits.
 */
public final class MeshNodePodCidr implements PodCidrSource {
  private static final Logger log = LoggerFactory.getLogger(MeshNodePodCidr.class);
  public static final ResourceDefinitionContext MESH_NODE =
      new ResourceDefinitionContext.Builder()
          .withGroup("meshwork.dev")
          .withVersion("v1alpha1")
          .withKind("MeshNode")
          .withPlural("meshnodes")
          .withNamespaced(false)
          .build();
  private static final Duration LOG_EVERY = Duration.ofSeconds(30);

  private final KubernetesClient client;
  private final String node;
  private final Duration timeout;
  private final Duration interval;

  public MeshNodePodCidr(KubernetesClient client, String node, Duration timeout, Duration interval) {
    this.client = Objects.requireNonNull(client, "client");
    this.node = Objects.requireNonNull(node, "node");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("MeshNode poll interval must be positive, got " + interval);
    }
    this.interval = interval;
  }

  /** What the MeshNode holds now. */
  sealed interface Lookup {
    record Found(IpPrefix cidr) implements Lookup {}

    record Missing(String reason) implements Lookup {}
  }

  Lookup lookUp() {
    GenericKubernetesResource meshNode;
    try {
      meshNode = client.genericKubernetesResources(MESH_NODE).withName(node).get();
    } catch (KubernetesClientException e) {
      return new Lookup.Missing("MeshNode " + node + " could not be read: " + e.getMessage());
    }
    if (meshNode == null) {
      return new Lookup.Missing("MeshNode " + node + " does not exist");
    }
    Object spec = meshNode.getAdditionalProperties().get("spec");
    Object cidrs = spec instanceof Map<?, ?> map ? map.get("podCIDRs") : null;
    if (!(cidrs instanceof List<?> list) || list.isEmpty()) {
      return new Lookup.Missing("MeshNode " + node + " has no spec.podCIDRs");
    }
    StringBuilder rejected = new StringBuilder();
    for (Object entry : list) {
      String text = String.valueOf(entry);
      if (text.contains(":")) {
        continue; // IPv6: not supported yet, the next entry may be IPv4
      }
      try {
        return new Lookup.Found(HostIpam.checkedPodCidr(IpPrefix.parse(text)));
      } catch (IllegalArgumentException e) {
        rejected.append(rejected.isEmpty() ? "" : "; ").append(e.getMessage());
      }
    }
    return new Lookup.Missing("MeshNode " + node + " has no usable IPv4 entry in spec.podCIDRs " + list
        + (rejected.isEmpty() ? "" : " (" + rejected + ")"));
  }

  @Override
  public IpPrefix await() throws PodCidrUnavailableException, InterruptedException {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    long nextLog = start;
    String lastReason = null;
    while (true) {
      Lookup found = lookUp();
      if (found instanceof Lookup.Found(IpPrefix cidr)) {
        log.info("node {}: pod CIDR {} from MeshNode {}", node, cidr, node);
        return cidr;
      }
      String reason = ((Lookup.Missing) found).reason();
      long now = System.nanoTime();
      if (now >= deadline) {
        throw new PodCidrUnavailableException(
            "node " + node + " has no pod CIDR after " + timeout.toSeconds() + " s: " + reason
                + "; the operator's cluster-pool IPAM writes it (is meshwork-operator running?), or set"
                + " --pod-cidr (MESHWORK_POD_CIDR)",
            null);
      }
      if (now >= nextLog || !reason.equals(lastReason)) {
        log.info("node {}: waiting for the pod CIDR in MeshNode {} (meshwork.dev/v1alpha1, written by meshwork-operator):"
                + " {}; giving up in {} s", node, node, reason, (deadline - now) / 1_000_000_000L);
        nextLog = now + LOG_EVERY.toNanos();
        lastReason = reason;
      }
      Thread.sleep(Duration.ofNanos(Math.min(interval.toNanos(), deadline - now)));
    }
  }

  /** The pod CIDR as it is now, without waiting (for tests and inspection). */
  public Optional<IpPrefix> current() {
    return lookUp() instanceof Lookup.Found(IpPrefix cidr) ? Optional.of(cidr) : Optional.empty();
  }
}
