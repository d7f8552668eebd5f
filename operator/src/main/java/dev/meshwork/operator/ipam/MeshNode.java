package dev.meshwork.operator.ipam;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * The cluster-scoped {@code MeshNode} custom resource ({@code meshwork.dev/v1alpha1}), one per
 * Kubernetes Node and named like it. It holds the node's pod CIDRs from cluster-pool IPAM, so
 * allocations live in the Kubernetes API and survive operator restarts. Its CRD is
 * {@code crds/meshnodes.meshwork.dev.yaml}.
 */
@Group(MeshNode.GROUP)
@Version(MeshNode.VERSION)
@Kind("MeshNode")
@Plural("meshnodes")
@Singular("meshnode")
@ShortNames("mnode")
public class MeshNode extends CustomResource<MeshNodeSpec, MeshNodeStatus> {

  public static final String GROUP = "meshwork.dev";
  public static final String VERSION = "v1alpha1";

  /** Condition type reporting whether the node has a pod CIDR. */
  public static final String CONDITION_POD_CIDR_ALLOCATED = "PodCIDRAllocated";

  @Override
  protected MeshNodeSpec initSpec() {
    return new MeshNodeSpec();
  }

  @Override
  protected MeshNodeStatus initStatus() {
    return new MeshNodeStatus();
  }
}
