package dev.meshwork.agent.policy;

import java.util.List;
import java.util.Set;

/**
 * Cilium's entities ({@code fromEntities}/{@code toEntities}) and what they resolve to here.
 * {@code cluster} is the local cluster's pods plus the reserved identities that live in it.
 */
enum Entity {
  ALL("all"),
  WORLD("world"),
  CLUSTER("cluster"),
  HOST("host"),
  REMOTE_NODE("remote-node"),
  HEALTH("health"),
  INIT("init"),
  UNMANAGED("unmanaged"),
  KUBE_APISERVER("kube-apiserver");

  static final int HOST_ID = 1;
  static final int WORLD_ID = 2;
  static final int UNMANAGED_ID = 3;
  static final int HEALTH_ID = 4;
  static final int INIT_ID = 5;
  static final int REMOTE_NODE_ID = 6;
  static final int KUBE_APISERVER_ID = 7;

  private final String yamlName;

  Entity(String yamlName) {
    this.yamlName = yamlName;
  }

  static Entity fromYaml(String name) {
    for (Entity e : values()) {
      if (e.yamlName.equals(name)) {
        return e;
      }
    }
    return null;
  }

  static String supportedNames() {
    return String.join(", ", java.util.Arrays.stream(values()).map(e -> e.yamlName).toList());
  }

  /** The peers this entity stands for, given the local cluster's name. */
  List<Peer> peers(String localCluster) {
    return switch (this) {
      case ALL -> List.of(new Peer.Any("entity:all"));
      case WORLD -> List.of(new Peer.Reserved(yamlName, Set.of(WORLD_ID)));
      case HOST -> List.of(new Peer.Reserved(yamlName, Set.of(HOST_ID)));
      case REMOTE_NODE -> List.of(new Peer.Reserved(yamlName, Set.of(REMOTE_NODE_ID)));
      case HEALTH -> List.of(new Peer.Reserved(yamlName, Set.of(HEALTH_ID)));
      case INIT -> List.of(new Peer.Reserved(yamlName, Set.of(INIT_ID)));
      case UNMANAGED -> List.of(new Peer.Reserved(yamlName, Set.of(UNMANAGED_ID)));
      case KUBE_APISERVER -> List.of(new Peer.Reserved(yamlName, Set.of(KUBE_APISERVER_ID)));
      case CLUSTER ->
          List.of(
              new Peer.Reserved(
                  yamlName,
                  Set.of(HOST_ID, UNMANAGED_ID, HEALTH_ID, INIT_ID, REMOTE_NODE_ID, KUBE_APISERVER_ID)),
              new Peer.Selected(
                  new Selector(List.of(Requirement.equal(LabelSet.CLUSTER, localCluster)))));
    };
  }
}
