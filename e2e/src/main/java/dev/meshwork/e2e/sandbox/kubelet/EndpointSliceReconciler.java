package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The EndpointSlice controller: keeps the slices of each Service with a selector equal to {@link
 * EndpointSlices#desired}, deletes the slices it manages of a Service that is gone or lost its
 * selector. Slices managed by someone else (other {@code managed-by}) are never touched.
 */
final class EndpointSliceReconciler implements Reconciler {

  /** Index of the EndpointSlice informer: {@code namespace/service-name}. */
  static final String BY_SERVICE = "byService";
  private static final Duration CONFLICT_RECHECK = Duration.ofMillis(200);

  private final KubernetesClient api;
  private final Indexer<Service> services;
  private final Indexer<Pod> pods;
  private final Indexer<Node> nodes;
  private final Indexer<EndpointSlice> slices;
  private final String clusterName;

  EndpointSliceReconciler(
      KubernetesClient api, Indexer<Service> services, Indexer<Pod> pods, Indexer<Node> nodes,
      Indexer<EndpointSlice> slices, String clusterName) {
    this.api = api;
    this.services = services;
    this.pods = pods;
    this.nodes = nodes;
    this.slices = slices;
    this.clusterName = clusterName;
  }

  static List<String> serviceKeyOf(EndpointSlice slice) {
    String service = Pods.labels(slice).get(EndpointSlices.SERVICE_NAME_LABEL);
    return service == null ? List.of() : List.of(slice.getMetadata().getNamespace() + "/" + service);
  }

  @Override
  public ReconcileResult reconcile(String key) {
    String namespace = key.substring(0, key.indexOf('/'));
    Service service = services.getByKey(key);
    Map<String, EndpointSlice> existing = new HashMap<>();
    for (EndpointSlice slice : slices.byIndex(BY_SERVICE, key)) {
      if (EndpointSlices.MANAGED_BY.equals(Pods.labels(slice).get(EndpointSlices.MANAGED_BY_LABEL))) {
        existing.put(slice.getMetadata().getName(), slice);
      }
    }
    boolean selects =
        service != null && service.getSpec() != null && service.getSpec().getSelector() != null
            && !service.getSpec().getSelector().isEmpty();
    List<EndpointSlice> desired =
        selects
            ? EndpointSlices.desired(service, pods.byIndex(Cache.NAMESPACE_INDEX, namespace), nodeLookup())
            : List.of();
    boolean conflict = false;
    for (EndpointSlice slice : desired) {
      EndpointSlice current = existing.remove(slice.getMetadata().getName());
      if (current == null) {
        conflict |= write(key, slice, () -> api.discovery().v1().endpointSlices().inNamespace(namespace).resource(slice).create());
      } else if (!EndpointSlices.projection(current).equals(EndpointSlices.projection(slice))) {
        EndpointSlice updated =
            new EndpointSliceBuilder(slice)
                .editMetadata().withResourceVersion(current.getMetadata().getResourceVersion()).endMetadata()
                .build();
        conflict |= write(key, slice, () -> api.discovery().v1().endpointSlices().inNamespace(namespace).resource(updated).update());
      }
    }
    for (EndpointSlice stale : existing.values()) {
      try {
        api.discovery().v1().endpointSlices().inNamespace(namespace).withName(stale.getMetadata().getName()).delete();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404) {
          throw failure(key, "cannot delete EndpointSlice " + stale.getMetadata().getName(), e);
        }
      }
    }
    // A conflict means the cache is behind our own last write: look again once it caught up.
    return conflict ? ReconcileResult.requeueAfter(CONFLICT_RECHECK) : ReconcileResult.done();
  }

  private Function<String, Node> nodeLookup() {
    return nodes::getByKey;
  }

  /** Writes the slice; true on a conflict (409: exists already, or changed since the cache saw it). */
  private boolean write(String key, EndpointSlice slice, Runnable call) {
    try {
      call.run();
      return false;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 409) {
        return true;
      }
      throw failure(key, "cannot write EndpointSlice " + slice.getMetadata().getName(), e);
    }
  }

  private IllegalStateException failure(String key, String what, KubernetesClientException e) {
    return new IllegalStateException("service " + key + " in cluster " + clusterName + ": " + what + ": " + e.getMessage(), e);
  }
}
