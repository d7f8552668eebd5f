package dev.meshwork.agent.node;

import dev.meshwork.datapath.IpPrefix;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Every cluster's nodes. Each change reports the prefixes it touched: the pod CIDRs, because a
 * pod CIDR with its node's IP is a tunnel entry, and the node's IP as a /32, because node IPs
 * carry the host or remote-node identity in the ipcache. Thread-safe.
 */
public final class NodeTable {
  private final String localCluster;
  private final Map<String, Map<String, NodeRecord>> byCluster = new HashMap<>();
  private final Comparator<NodeRecord> order;
  private volatile Consumer<IpPrefix> listener = prefix -> {};

  public NodeTable(String localCluster) {
    this.localCluster = localCluster;
    this.order =
        Comparator.comparing((NodeRecord n) -> !n.cluster().equals(localCluster))
            .thenComparing(NodeRecord::cluster)
            .thenComparing(NodeRecord::name);
  }

  public void listener(Consumer<IpPrefix> listener) {
    this.listener = listener;
  }

  public String localCluster() {
    return localCluster;
  }

  /**
   * The first pod CIDR of {@code node} that overlaps a pod CIDR of another cluster's node, with
   * that node, or empty. Two clusters must never route the same pod address.
   */
  public synchronized Optional<String> overlapWithOtherCluster(NodeRecord node) {
    if (node.cluster().equals(localCluster)) {
      return Optional.empty(); // the local cluster is authoritative; see upsert
    }
    for (Map.Entry<String, Map<String, NodeRecord>> e : byCluster.entrySet()) {
      if (e.getKey().equals(node.cluster())) {
        continue;
      }
      for (NodeRecord other : e.getValue().values()) {
        for (IpPrefix mine : node.podCidrs()) {
          for (IpPrefix theirs : other.podCidrs()) {
            if (mine.overlaps(theirs)) {
              return Optional.of(
                  "pod CIDR " + mine + " overlaps " + theirs + " of node " + other.cluster() + "/" + other.name());
            }
          }
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Adds or replaces a node. A node of the local cluster evicts every remote node whose pod CIDR
   * overlaps its own (the local cluster owns its addresses, whatever arrived first); the evicted
   * nodes are returned so the caller can report them.
   */
  public List<NodeRecord> upsert(NodeRecord node) {
    NodeRecord old;
    List<NodeRecord> evicted = new ArrayList<>();
    synchronized (this) {
      old = byCluster.computeIfAbsent(node.cluster(), c -> new HashMap<>()).put(node.name(), node);
      if (node.cluster().equals(localCluster)) {
        for (Map.Entry<String, Map<String, NodeRecord>> e : byCluster.entrySet()) {
          if (e.getKey().equals(localCluster)) continue;
          e.getValue().values().removeIf(other -> {
            boolean overlaps = other.podCidrs().stream().anyMatch(p -> node.podCidrs().stream().anyMatch(p::overlaps));
            if (overlaps) evicted.add(other);
            return overlaps;
          });
        }
      }
    }
    if (node.equals(old) && evicted.isEmpty()) {
      return evicted;
    }
    Set<IpPrefix> touched = new HashSet<>(prefixesOf(node));
    if (old != null) {
      touched.addAll(prefixesOf(old));
    }
    evicted.forEach(n -> touched.addAll(prefixesOf(n)));
    touched.forEach(listener);
    return evicted;
  }

  public void delete(String cluster, String name) {
    NodeRecord old;
    synchronized (this) {
      Map<String, NodeRecord> nodes = byCluster.get(cluster);
      old = nodes == null ? null : nodes.remove(name);
    }
    if (old != null) {
      prefixesOf(old).forEach(listener);
    }
  }

  /** The prefixes a node puts into the ipcache: its pod CIDRs and its own IP. */
  public static List<IpPrefix> prefixesOf(NodeRecord node) {
    if (node.internalIp() == 0) {
      return node.podCidrs();
    }
    List<IpPrefix> prefixes = new ArrayList<>(node.podCidrs());
    prefixes.add(IpPrefix.host(node.internalIp()));
    return prefixes;
  }

  public void drain(String cluster) {
    Map<String, NodeRecord> removed;
    synchronized (this) {
      removed = byCluster.remove(cluster);
    }
    if (removed != null) {
      removed.values().forEach(n -> prefixesOf(n).forEach(listener));
    }
  }

  public synchronized Optional<NodeRecord> get(String cluster, String name) {
    return Optional.ofNullable(byCluster.getOrDefault(cluster, Map.of()).get(name));
  }

  /**
   * The node that owns {@code prefix} as a pod CIDR: the local cluster's first, then by cluster
   * and node name, so the answer is stable when two nodes claim it.
   */
  public synchronized Optional<NodeRecord> ownerOf(IpPrefix prefix) {
    NodeRecord best = null;
    for (Map<String, NodeRecord> nodes : byCluster.values()) {
      for (NodeRecord n : nodes.values()) {
        if (n.podCidrs().contains(prefix) && (best == null || order.compare(n, best) < 0)) {
          best = n;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /**
   * The node whose InternalIP is {@code ip}: the local cluster's first, then by cluster and node
   * name, like {@link #ownerOf}.
   */
  public synchronized Optional<NodeRecord> withIp(int ip) {
    NodeRecord best = null;
    for (Map<String, NodeRecord> nodes : byCluster.values()) {
      for (NodeRecord n : nodes.values()) {
        if (ip != 0 && n.internalIp() == ip && (best == null || order.compare(n, best) < 0)) {
          best = n;
        }
      }
    }
    return Optional.ofNullable(best);
  }

  /** All nodes, local cluster first, then by cluster and name. */
  public synchronized List<NodeRecord> all() {
    List<NodeRecord> out = new ArrayList<>();
    byCluster.values().forEach(m -> out.addAll(m.values()));
    out.sort(order);
    return out;
  }

  public synchronized int count(String cluster) {
    return byCluster.getOrDefault(cluster, Map.of()).size();
  }
}
