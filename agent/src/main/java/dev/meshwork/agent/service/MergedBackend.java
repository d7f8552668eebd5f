package dev.meshwork.agent.service;

import dev.meshwork.datapath.L4Address;

/** A backend chosen for a frontend, with the cluster it lives in (for display). */
public record MergedBackend(L4Address address, String cluster, boolean terminating)
    implements Comparable<MergedBackend> {
  @Override
  public int compareTo(MergedBackend o) {
    return address.compareTo(o.address);
  }
}
