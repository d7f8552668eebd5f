package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API server's part for Services: a Service of type ClusterIP, NodePort or LoadBalancer
 * without {@code spec.clusterIP} gets one from the service CIDR ({@code spec.clusterIP} and
 * {@code spec.clusterIPs}). Headless ({@code None}) and ExternalName Services get none.
 */
final class ClusterIpReconciler implements Reconciler {

  private static final Logger log = LoggerFactory.getLogger(ClusterIpReconciler.class);

  private final KubernetesClient api;
  private final Indexer<Service> services;
  private final ClusterIpAllocator allocator;
  private final PodEvents events;
  private final String clusterName;

  ClusterIpReconciler(KubernetesClient api, Indexer<Service> services, ClusterIpAllocator allocator, PodEvents events, String clusterName) {
    this.api = api;
    this.services = services;
    this.allocator = allocator;
    this.events = events;
    this.clusterName = clusterName;
  }

  @Override
  public ReconcileResult reconcile(String key) {
    Service service = services.getByKey(key);
    if (service == null) {
      allocator.release(key);
      return ReconcileResult.done();
    }
    String type = service.getSpec() == null || service.getSpec().getType() == null ? "ClusterIP" : service.getSpec().getType();
    if (type.equals("ExternalName")) {
      return ReconcileResult.done();
    }
    String current = service.getSpec().getClusterIP();
    if (current != null && !current.isEmpty()) {
      return ReconcileResult.done();
    }
    List<String> inUse =
        services.list().stream()
            .filter(s -> !Pods.key(s).equals(key) && s.getSpec() != null && s.getSpec().getClusterIP() != null)
            .map(s -> s.getSpec().getClusterIP())
            .toList();
    Optional<String> ip = allocator.allocate(key, inUse);
    if (ip.isEmpty()) {
      String message = "service " + key + " in cluster " + clusterName + ": no free ClusterIP left in " + allocator.cidr();
      log.warn(message);
      events.warning(service, "ClusterIPExhausted", "sandbox-kubelet", null, message);
      return ReconcileResult.requeueAfter(Duration.ofSeconds(30));
    }
    Service updated =
        new ServiceBuilder(service).editSpec().withClusterIP(ip.get()).withClusterIPs(ip.get()).endSpec().build();
    try {
      api.services().inNamespace(service.getMetadata().getNamespace()).resource(updated).update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        allocator.release(key);
        return ReconcileResult.done();
      }
      if (e.getCode() == 409) {
        // Changed since the cache saw it; the address stays this Service's for the next look.
        return ReconcileResult.requeueAfter(Duration.ofMillis(200));
      }
      throw new IllegalStateException(
          "service " + key + " in cluster " + clusterName + ": cannot set ClusterIP " + ip.get() + ": " + e.getMessage(), e);
    }
    log.info("service {} in cluster {}: ClusterIP {}", key, clusterName, ip.get());
    return ReconcileResult.done();
  }
}
