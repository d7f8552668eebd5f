package dev.meshwork.agent.policy;

/** Adds the namespace and cluster a peer selector implicitly means. */
final class PeerScope {
  private PeerScope() {}

  /**
   * A peer selector of a namespaced policy matches only {@code namespace} unless it constrains a
   * namespace label itself, and only the local cluster unless it constrains the cluster label or
   * the mesh-wide default is configured. Selectors of reserved labels are left as they are.
   */
  static Selector scope(Selector raw, String namespace, PolicyConfig config) {
    if (raw.selectsReserved()) {
      return raw;
    }
    boolean addNamespace = !namesNamespace(raw);
    boolean addCluster = addsLocalCluster(raw, config);
    Requirement inNamespace = Requirement.equal(LabelSet.NAMESPACE, namespace);
    if (addNamespace && addCluster) {
      return raw.with(inNamespace, Requirement.equal(LabelSet.CLUSTER, config.localCluster()));
    }
    return addNamespace ? raw.with(inNamespace) : clusterScoped(raw, config);
  }

  static Selector clusterScoped(Selector selector, PolicyConfig config) {
    return addsLocalCluster(selector, config)
        ? selector.with(Requirement.equal(LabelSet.CLUSTER, config.localCluster()))
        : selector;
  }

  private static boolean addsLocalCluster(Selector selector, PolicyConfig config) {
    return config.defaultLocalCluster() && !selector.constrains(LabelSet.CLUSTER);
  }

  private static boolean namesNamespace(Selector selector) {
    for (Requirement r : selector.requirements()) {
      if (r.key().equals(LabelSet.NAMESPACE) || r.key().startsWith(LabelSet.NAMESPACE_LABEL_PREFIX)) {
        return true;
      }
    }
    return false;
  }
}
