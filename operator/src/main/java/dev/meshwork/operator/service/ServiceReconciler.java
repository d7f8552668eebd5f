package dev.meshwork.operator.service;

import dev.meshwork.common.service.GlobalServiceAnnotations;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import dev.meshwork.operator.events.EventRecorder;
import dev.meshwork.operator.state.ClusterStateWriter;
import dev.meshwork.kvstore.key.Kind;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import java.util.List;
import java.util.function.Function;

/**
 * Reconciles one Service ({@code namespace/name}): writes it with its backends to {@code
 * state/services/<cluster>/<ns>/<name>} while it is global, and removes the key when it is
 * deleted or stops being global. Annotation problems become Warning events on the Service.
 */
public final class ServiceReconciler implements Reconciler {

  /** Index of the EndpointSlice informer: {@code namespace/service-name}. */
  public static final String SLICES_BY_SERVICE = "byService";

  private static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private final LocalCluster cluster;
  private final Indexer<Service> services;
  private final Indexer<EndpointSlice> slices;
  private final ClusterStateWriter writer;
  private final EventRecorder events;

  public ServiceReconciler(
      LocalCluster cluster,
      Indexer<Service> services,
      Indexer<EndpointSlice> slices,
      ClusterStateWriter writer,
      EventRecorder events) {
    this.cluster = cluster;
    this.services = services;
    this.slices = slices;
    this.writer = writer;
    this.events = events;
  }

  /** The key of the Service an EndpointSlice belongs to, if it names one. */
  public static List<String> serviceKeyOf(EndpointSlice slice) {
    var labels = slice.getMetadata().getLabels();
    String service = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
    return service == null ? List.of() : List.of(slice.getMetadata().getNamespace() + "/" + service);
  }

  /** The indexer to install on the EndpointSlice informer. */
  public static Function<EndpointSlice, List<String>> sliceIndex() {
    return ServiceReconciler::serviceKeyOf;
  }

  @Override
  public ReconcileResult reconcile(String key) {
    Service service = services.getByKey(key);
    if (service == null) {
      writer.delete(Kind.SERVICES, key);
      return ReconcileResult.done();
    }
    var annotations = GlobalServiceAnnotations.parse(service.getMetadata().getAnnotations());
    for (var problem : annotations.problems()) {
      events.warning(
          service,
          "InvalidAnnotation",
          "service " + key + " in cluster " + cluster.name() + ": " + problem.message());
    }
    if (!annotations.global() || "ExternalName".equals(service.getSpec().getType())) {
      writer.delete(Kind.SERVICES, key);
      return ReconcileResult.done();
    }
    List<EndpointSlice> own = slices.byIndex(SLICES_BY_SERVICE, key);
    writer.put(
        Kind.SERVICES, key, ServiceTranslator.translate(cluster, service, annotations, own));
    return ReconcileResult.done();
  }

  /** The cache key of an object: {@code namespace/name}. */
  public static String keyOf(io.fabric8.kubernetes.api.model.HasMetadata object) {
    return Cache.metaNamespaceKeyFunc(object);
  }
}
