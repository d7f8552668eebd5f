package dev.meshwork.operator.node;

import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import dev.meshwork.operator.ipam.MeshNode;
import dev.meshwork.operator.ipam.PodCidrAllocator;
import dev.meshwork.operator.state.ClusterStateWriter;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.NodeAddress;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.informers.cache.Store;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Reconciles one Kubernetes Node: gives it a pod CIDR through cluster-pool IPAM and writes
 * {@code state/nodes/<cluster>/<node>}; when the Node is gone, frees its block and removes the
 * key.
 */
public final class NodeReconciler implements Reconciler {

  /** How soon a node left without a block by an exhausted pool is looked at again. */
  static final Duration EXHAUSTED_RETRY = Duration.ofSeconds(30);

  private final LocalCluster cluster;
  private final Store<Node> nodes;
  private final Store<MeshNode> meshNodes;
  private final PodCidrAllocator allocator;
  private final ClusterStateWriter writer;
  private final Consumer<String> onRelease;

  /**
   * @param onRelease called after a block was freed, so that nodes waiting on an exhausted pool
   *     can be reconciled again at once
   */
  public NodeReconciler(
      LocalCluster cluster,
      Store<Node> nodes,
      Store<MeshNode> meshNodes,
      PodCidrAllocator allocator,
      ClusterStateWriter writer,
      Consumer<String> onRelease) {
    this.cluster = cluster;
    this.nodes = nodes;
    this.meshNodes = meshNodes;
    this.allocator = allocator;
    this.writer = writer;
    this.onRelease = onRelease;
  }

  @Override
  public ReconcileResult reconcile(String name) {
    Node node = nodes.getByKey(name);
    MeshNode meshNode = meshNodes.getByKey(name);
    if (node == null) {
      writer.delete(Kind.NODES, name);
      if (allocator.release(name, meshNode)) {
        onRelease.accept(name);
      }
      return ReconcileResult.done();
    }
    var builder =
        dev.meshwork.proto.v1.Node.newBuilder()
            .setCluster(cluster.name())
            .setClusterId(cluster.id())
            .setName(name);
    if (node.getStatus() != null && node.getStatus().getAddresses() != null) {
      for (var address : node.getStatus().getAddresses()) {
        builder.addAddresses(
            NodeAddress.newBuilder().setType(address.getType()).setAddress(address.getAddress()));
      }
    }
    var allocation = allocator.ensureAllocated(node, meshNode);
    if (allocation instanceof PodCidrAllocator.Allocation.Allocated(var cidr)) {
      builder.addPodCidrs(cidr.toString());
    }
    writer.put(Kind.NODES, name, builder.build());
    return allocation instanceof PodCidrAllocator.Allocation.PoolExhausted
        ? ReconcileResult.requeueAfter(EXHAUSTED_RETRY)
        : ReconcileResult.done();
  }
}
