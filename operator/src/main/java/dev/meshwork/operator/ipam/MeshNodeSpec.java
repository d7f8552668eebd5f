package dev.meshwork.operator.ipam;

import java.util.ArrayList;
import java.util.List;

/** Desired state of a MeshNode: the pod CIDRs allocated to the node. */
public class MeshNodeSpec {

  private List<String> podCIDRs = new ArrayList<>();

  public List<String> getPodCIDRs() {
    return podCIDRs;
  }

  public void setPodCIDRs(List<String> podCIDRs) {
    this.podCIDRs = podCIDRs == null ? new ArrayList<>() : new ArrayList<>(podCIDRs);
  }
}
