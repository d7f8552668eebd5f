package dev.meshwork.agent.reconcile;

import dev.meshwork.datapath.L4Address;
import java.util.HashMap;
import java.util.Map;

/**
 * Reverse-NAT ids (1..65535), stable per frontend for as long as the frontend exists. Ids are
 * handed out round-robin rather than lowest-free, so an id just released (whose conntrack
 * entries may still be around) is not reused at once. Not thread-safe (the reconciler's thread).
 */
final class RevNatIds {
  private static final int MAX = 65535;
  private final Map<L4Address, Integer> byFrontend = new HashMap<>();
  private final boolean[] used = new boolean[MAX + 1];
  private int cursor = 0;

  /** Keeps an id found in the datapath at start-up. */
  void restore(L4Address frontend, int id) {
    byFrontend.put(frontend, id);
    used[id] = true;
  }

  int idFor(L4Address frontend) {
    Integer existing = byFrontend.get(frontend);
    if (existing != null) {
      return existing;
    }
    for (int i = 0; i < MAX; i++) {
      cursor = cursor % MAX + 1;
      if (!used[cursor]) {
        used[cursor] = true;
        byFrontend.put(frontend, cursor);
        return cursor;
      }
    }
    throw new IllegalStateException("all " + MAX + " reverse-NAT ids are in use; cannot add frontend " + frontend);
  }

  void release(L4Address frontend) {
    Integer id = byFrontend.remove(frontend);
    if (id != null) {
      used[id] = false;
    }
  }

  Integer peek(L4Address frontend) {
    return byFrontend.get(frontend);
  }
}
