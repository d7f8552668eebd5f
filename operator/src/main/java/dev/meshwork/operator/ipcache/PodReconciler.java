package dev.meshwork.operator.ipcache;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import dev.meshwork.operator.identity.IdentityRegistry;
import dev.meshwork.operator.identity.LabelSet;
import dev.meshwork.operator.state.ClusterStateWriter;
import dev.meshwork.proto.v1.IPCacheEntry;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.client.informers.cache.Store;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reconciles one pod ({@code namespace/name}): gives it the identity of its label set and writes
 * an ipcache entry per pod IP ({@code state/ipcache/<cluster>/<ip>}). A scheduled pod gets its
 * identity before it has an IP (the agent's CNI ADD waits for it); a pod that is gone, has
 * finished, uses the host network, or is neither scheduled nor has an IP releases its identity
 * and entries.
 */
public final class PodReconciler implements Reconciler {

  private final LocalCluster cluster;
  private final Store<Pod> pods;
  private final IdentityRegistry identities;
  private final ClusterStateWriter writer;
  /** The IPs each pod has entries for. */
  private final Map<String, Set<String>> ipsByPod = new ConcurrentHashMap<>();
  /** The pod owning each IP: an IP can move to a new pod before the old pod's delete is seen. */
  private final Map<String, String> podByIp = new HashMap<>();

  public PodReconciler(
      LocalCluster cluster, Store<Pod> pods, IdentityRegistry identities, ClusterStateWriter writer) {
    this.cluster = cluster;
    this.pods = pods;
    this.identities = identities;
    this.writer = writer;
  }

  @Override
  public ReconcileResult reconcile(String key) throws Exception {
    Pod pod = pods.getByKey(key);
    if (pod == null || !hasPodNetwork(pod) || (!isScheduled(pod) && ipsOf(pod).isEmpty())) {
      removeEntries(key, Set.of());
      identities.release(key);
      return ReconcileResult.done();
    }
    // A scheduled pod gets its identity before it has an IP: the agent's CNI ADD, which gives the
    // pod its IP, waits for that identity.
    int identity = identities.acquire(key, LabelSet.of(pod, cluster.name()));
    Set<String> ips = ipsOf(pod);
    String hostIp =
        pod.getStatus() == null || pod.getStatus().getHostIP() == null ? "" : pod.getStatus().getHostIP();
    for (String ip : ips) {
      synchronized (podByIp) {
        podByIp.put(ip, key);
      }
      writer.put(
          Kind.IPCACHE,
          ip,
          IPCacheEntry.newBuilder()
              .setIp(ip)
              .setIdentity(identity)
              .setHostIp(hostIp)
              .setNamespace(pod.getMetadata().getNamespace())
              .setPodName(pod.getMetadata().getName())
              .setCluster(cluster.name())
              .build());
    }
    removeEntries(key, ips);
    if (!ips.isEmpty()) {
      ipsByPod.put(key, ips);
    }
    return ReconcileResult.done();
  }

  /**
   * The label set whose identity {@code pod} needs, if it needs one (it has a pod-network IP and
   * has not finished): what {@link #reconcile} acquires for it.
   */
  public static Optional<LabelSet> identityLabels(Pod pod, String cluster) {
    return hasPodNetwork(pod) && !ipsOf(pod).isEmpty()
        ? Optional.of(LabelSet.of(pod, cluster))
        : Optional.empty();
  }

  /** Removes the pod's entries for IPs not in {@code keep}, unless another pod owns them now. */
  private void removeEntries(String key, Set<String> keep) {
    Set<String> previous = ipsByPod.getOrDefault(key, Set.of());
    for (String ip : previous) {
      if (keep.contains(ip)) {
        continue;
      }
      synchronized (podByIp) {
        if (podByIp.remove(ip, key)) {
          writer.delete(Kind.IPCACHE, ip);
        }
      }
    }
    if (keep.isEmpty()) {
      ipsByPod.remove(key);
    }
  }

  private static boolean hasPodNetwork(Pod pod) {
    if (pod.getSpec() != null && Boolean.TRUE.equals(pod.getSpec().getHostNetwork())) {
      return false;
    }
    String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
    return !"Succeeded".equals(phase) && !"Failed".equals(phase);
  }

  private static boolean isScheduled(Pod pod) {
    return pod.getSpec() != null && pod.getSpec().getNodeName() != null && !pod.getSpec().getNodeName().isBlank();
  }

  private static Set<String> ipsOf(Pod pod) {
    Set<String> ips = new LinkedHashSet<>();
    if (pod.getStatus() == null) {
      return ips;
    }
    if (pod.getStatus().getPodIPs() != null) {
      for (PodIP podIp : pod.getStatus().getPodIPs()) {
        if (podIp.getIp() != null && !podIp.getIp().isBlank()) {
          ips.add(podIp.getIp());
        }
      }
    }
    if (ips.isEmpty() && pod.getStatus().getPodIP() != null && !pod.getStatus().getPodIP().isBlank()) {
      ips.add(pod.getStatus().getPodIP());
    }
    return ips;
  }
}
