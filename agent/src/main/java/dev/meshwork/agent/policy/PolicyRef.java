package dev.meshwork.agent.policy;

import java.util.Objects;

/** Names a policy object of the local cluster. */
public record PolicyRef(Kind kind, String namespace, String name) implements Comparable<PolicyRef> {

  public enum Kind {
    CILIUM_NETWORK_POLICY("CiliumNetworkPolicy"),
    NETWORK_POLICY("NetworkPolicy");

    private final String kubernetesKind;

    Kind(String kubernetesKind) {
      this.kubernetesKind = kubernetesKind;
    }

    public String kubernetesKind() {
      return kubernetesKind;
    }
  }

  public PolicyRef {
    Objects.requireNonNull(kind, "kind");
    namespace = namespace == null ? "" : namespace;
    name = name == null ? "" : name;
  }

  @Override
  public int compareTo(PolicyRef o) {
    int c = namespace.compareTo(o.namespace);
    c = c != 0 ? c : name.compareTo(o.name);
    return c != 0 ? c : kind.compareTo(o.kind);
  }

  @Override
  public String toString() {
    return kind.kubernetesKind() + " " + namespace + "/" + name;
  }
}
