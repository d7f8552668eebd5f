package dev.meshwork.agent.policy;

import java.util.Set;
import java.util.TreeSet;

/** The other side of a rule: identities chosen by labels, fixed reserved identities, or anyone. */
public sealed interface Peer {

  /** Identities whose labels match; the set changes as identities come and go. */
  record Selected(Selector selector) implements Peer {
    @Override
    public String toString() {
      return selector.toString();
    }
  }

  /** Fixed identities, from an entity such as {@code host} (1) or {@code world} (2). */
  record Reserved(String entity, Set<Integer> identities) implements Peer {
    public Reserved {
      identities = Set.copyOf(new TreeSet<>(identities));
    }

    @Override
    public String toString() {
      return "entity:" + entity;
    }
  }

  /**
   * Every identity, known or not (the {@code all} entity, and port-only rules): identity 0 in the
   * datapath's policy key.
   */
  record Any(String reason) implements Peer {
    @Override
    public String toString() {
      return reason;
    }
  }
}
