package dev.meshwork.operator.ipam;

import dev.meshwork.operator.events.EventRecorder;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cluster-pool IPAM over MeshNode objects. The in-memory owner map is the authority while the
 * operator runs (informer caches can lag our own writes); it is rebuilt from the MeshNodes at
 * start-up by {@link #restore}, so a block is never handed out twice across restarts.
 */
public final class PodCidrAllocator {

  private static final Logger log = LoggerFactory.getLogger(PodCidrAllocator.class);

  private final CidrPool pool;
  private final KubernetesClient client;
  private final EventRecorder events;
  /** Node name → its block. Guarded by {@code this}. */
  private final Map<String, Ipv4Cidr> owners = new HashMap<>();

  public PodCidrAllocator(CidrPool pool, KubernetesClient client, EventRecorder events) {
    this.pool = pool;
    this.client = client;
    this.events = events;
  }

  /** The outcome of {@link #ensureAllocated}. */
  public sealed interface Allocation {
    record Allocated(Ipv4Cidr cidr) implements Allocation {}

    record PoolExhausted(String message) implements Allocation {}
  }

  /**
   * Marks the blocks of existing MeshNodes as used, oldest object first. A MeshNode whose block
   * is already taken by an older one, or lies outside the pool, gets no entry here and is given
   * a fresh block by its next reconcile.
   */
  public synchronized void restore(Collection<MeshNode> existing) {
    List<MeshNode> ordered = new ArrayList<>(existing);
    ordered.sort(
        Comparator.comparing((MeshNode m) -> Objects.toString(m.getMetadata().getCreationTimestamp(), ""))
            .thenComparing(m -> m.getMetadata().getName()));
    for (MeshNode meshNode : ordered) {
      String node = meshNode.getMetadata().getName();
      for (String text : meshNode.getSpec().getPodCIDRs()) {
        Ipv4Cidr cidr;
        try {
          cidr = Ipv4Cidr.parse(text);
        } catch (IllegalArgumentException e) {
          log.warn("MeshNode {}: ignoring pod CIDR {}: {}", node, text, e.getMessage());
          continue;
        }
        switch (pool.claim(cidr)) {
          case CLAIMED -> owners.put(node, cidr);
          case ALREADY_USED ->
              log.warn("MeshNode {}: pod CIDR {} is already allocated to another node; it will get a new one", node, cidr);
          case NOT_IN_POOL ->
              log.warn("MeshNode {}: pod CIDR {} is not a /{} block of the pool {}; it will get a new one", node, cidr, pool.maskSize(), pool.pool());
        }
        if (owners.containsKey(node)) {
          break;
        }
      }
    }
    log.info("cluster pool {}: restored {} of {} node blocks from MeshNodes", pool.pool(), pool.allocated(), pool.capacity());
  }

  /**
   * Makes sure the node has a block and its MeshNode says so; on an exhausted pool, records a
   * condition and a Warning event instead and reports it.
   */
  public Allocation ensureAllocated(Node node, MeshNode current) {
    String name = node.getMetadata().getName();
    Ipv4Cidr cidr;
    boolean fresh = false;
    synchronized (this) {
      cidr = owners.get(name);
      if (cidr == null) {
        Optional<Ipv4Cidr> next = pool.allocate();
        if (next.isEmpty()) {
          String message =
              "cluster pool "
                  + pool.pool()
                  + " is exhausted: all "
                  + pool.capacity()
                  + " /"
                  + pool.maskSize()
                  + " blocks are allocated; node "
                  + name
                  + " gets no pod CIDR until a node is removed or the pool is enlarged";
          reportExhausted(node, current, message);
          return new Allocation.PoolExhausted(message);
        }
        cidr = next.get();
        owners.put(name, cidr);
        fresh = true;
      }
    }
    try {
      writeMeshNode(node, current, cidr);
    } catch (RuntimeException e) {
      if (fresh) {
        synchronized (this) {
          owners.remove(name);
          pool.release(cidr);
        }
      }
      throw e;
    }
    if (fresh) {
      log.info("node {}: allocated pod CIDR {}", name, cidr);
    }
    return new Allocation.Allocated(cidr);
  }

  /** The node is gone: deletes its MeshNode, then frees its block. Returns whether one was freed. */
  public boolean release(String nodeName, MeshNode current) {
    if (current != null) {
      client.resources(MeshNode.class).withName(nodeName).delete();
    }
    synchronized (this) {
      Ipv4Cidr cidr = owners.remove(nodeName);
      if (cidr == null) {
        return false;
      }
      pool.release(cidr);
      log.info("node {}: released pod CIDR {}", nodeName, cidr);
      return true;
    }
  }

  public synchronized Optional<Ipv4Cidr> allocationOf(String nodeName) {
    return Optional.ofNullable(owners.get(nodeName));
  }

  private void writeMeshNode(Node node, MeshNode current, Ipv4Cidr cidr) {
    List<String> wanted = List.of(cidr.toString());
    Condition allocated =
        condition("True", "Allocated", "pod CIDR " + cidr + " allocated from cluster pool " + pool.pool());
    if (current != null
        && wanted.equals(current.getSpec().getPodCIDRs())
        && hasCondition(current, allocated)) {
      return;
    }
    var resource = client.resources(MeshNode.class);
    String name = node.getMetadata().getName();
    if (current == null) {
      MeshNode meshNode = newMeshNode(node);
      meshNode.getSpec().setPodCIDRs(wanted);
      // The status goes on the object create returned (its resourceVersion guards the write):
      // two API calls for a new node instead of create, get and update.
      MeshNode created = resource.resource(meshNode).create();
      setCondition(created, allocated);
      resource.resource(created).updateStatus();
      return;
    } else if (!wanted.equals(current.getSpec().getPodCIDRs())) {
      // edit() reads the latest version first: the informer cache may lag our own writes.
      resource.withName(name).edit(m -> {
        m.getSpec().setPodCIDRs(wanted);
        return m;
      });
    }
    resource.withName(name).editStatus(m -> {
      setCondition(m, allocated);
      return m;
    });
  }

  private void reportExhausted(Node node, MeshNode current, String message) {
    Condition exhausted = condition("False", "PoolExhausted", message);
    events.warning(node, "PoolExhausted", message);
    if (current != null && hasCondition(current, exhausted)) {
      return;
    }
    var resource = client.resources(MeshNode.class);
    if (current == null) {
      resource.resource(newMeshNode(node)).create();
    }
    resource.withName(node.getMetadata().getName()).editStatus(m -> {
      setCondition(m, exhausted);
      return m;
    });
  }

  private static MeshNode newMeshNode(Node node) {
    MeshNode meshNode = new MeshNode();
    meshNode.getMetadata().setName(node.getMetadata().getName());
    // Owned by the Node, so that Kubernetes' garbage collector removes it with the Node even
    // while no operator runs.
    meshNode
        .getMetadata()
        .setOwnerReferences(
            List.of(
                new OwnerReferenceBuilder()
                    .withApiVersion("v1")
                    .withKind("Node")
                    .withName(node.getMetadata().getName())
                    .withUid(node.getMetadata().getUid())
                    .build()));
    meshNode.setSpec(new MeshNodeSpec());
    meshNode.setStatus(new MeshNodeStatus());
    return meshNode;
  }

  private static Condition condition(String status, String reason, String message) {
    return new ConditionBuilder()
        .withType(MeshNode.CONDITION_POD_CIDR_ALLOCATED)
        .withStatus(status)
        .withReason(reason)
        .withMessage(message)
        .withLastTransitionTime(Instant.now().toString())
        .build();
  }

  private static boolean hasCondition(MeshNode meshNode, Condition wanted) {
    if (meshNode.getStatus() == null) {
      return false;
    }
    return meshNode.getStatus().getConditions().stream()
        .anyMatch(
            c ->
                wanted.getType().equals(c.getType())
                    && wanted.getStatus().equals(c.getStatus())
                    && wanted.getReason().equals(c.getReason())
                    && wanted.getMessage().equals(c.getMessage()));
  }

  private static void setCondition(MeshNode meshNode, Condition condition) {
    if (meshNode.getStatus() == null) {
      meshNode.setStatus(new MeshNodeStatus());
    }
    List<Condition> conditions = new ArrayList<>(meshNode.getStatus().getConditions());
    for (Condition old : conditions) {
      // The transition time says when the status last changed, not when it was last written.
      if (condition.getType().equals(old.getType()) && condition.getStatus().equals(old.getStatus())) {
        condition.setLastTransitionTime(old.getLastTransitionTime());
      }
    }
    conditions.removeIf(c -> condition.getType().equals(c.getType()));
    conditions.add(condition);
    meshNode.getStatus().setConditions(conditions);
  }
}
