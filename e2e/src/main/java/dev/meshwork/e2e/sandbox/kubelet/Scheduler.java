package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Spreads pods over the nodes: a pod goes to the node with the fewest pods (ties: the first node
 * in the settings' order). Pods bound by this scheduler count at once, before the cache shows
 * their {@code spec.nodeName}, so pods scheduled in a burst still spread.
 */
final class Scheduler {

  private final List<String> nodes;
  /** Pod key → node, for bindings the cache may not show yet. */
  private final Map<String, String> assumed = new HashMap<>();

  Scheduler(List<String> nodes) {
    this.nodes = List.copyOf(nodes);
  }

  /**
   * The node for pod {@code key}.
   *
   * @param pods every pod in the cache
   */
  synchronized String pick(String key, Collection<Pod> pods) {
    String earlier = assumed.get(key);
    if (earlier != null) {
      return earlier;
    }
    Map<String, Integer> load = new LinkedHashMap<>();
    nodes.forEach(n -> load.put(n, 0));
    Map<String, String> placement = new HashMap<>(assumed);
    for (Pod pod : pods) {
      String node = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (node != null && !Pods.isFinished(pod)) {
        placement.put(Pods.key(pod), node);
      }
    }
    placement.values().forEach(n -> load.computeIfPresent(n, (k, v) -> v + 1));
    String best = nodes.getFirst();
    for (String node : nodes) {
      if (load.get(node) < load.get(best)) {
        best = node;
      }
    }
    assumed.put(key, best);
    return best;
  }

  /** The pod's binding is visible in the cache, or the pod is gone: stop assuming. */
  synchronized void forget(String key) {
    assumed.remove(key);
  }
}
