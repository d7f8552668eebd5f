package dev.meshwork.agent.service.kubernetes;

import dev.meshwork.agent.service.ServiceTable;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import dev.meshwork.agent.KubernetesModule;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds every Service of the local cluster, with its EndpointSlice backends, into the {@link
 * ServiceTable} as the local cluster's records. Informer events only put the Service's
 * "namespace/name" on a de-duplicating queue; one worker thread translates each key from the
 * informer caches (never from the event) and upserts or deletes the table record.
 *
 * <p>A Service that cannot be used is reported by name (log, metric, {@link #problems()}) and
 * skipped; what was programmed for it before stays. ExternalName and headless Services are not
 * programmed.
 */
public final class LocalServiceWatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalServiceWatcher.class);
  static final String SLICES_BY_SERVICE = "service";
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private final KubernetesClient client;
  private final ServiceTable table;
  private final String cluster;
  private final Runnable changed;
  private final Counter rejections;
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().name("local-services").daemon().unstarted(r));
  private final Set<String> pending = ConcurrentHashMap.newKeySet();
  private final Map<String, String> problems = new ConcurrentHashMap<>();
  private volatile boolean synced;
  private SharedIndexInformer<Service> services;
  private SharedIndexInformer<EndpointSlice> slices;

  /**
   * @param changed called after the first complete pass over the Services (the reconciler may
   *     then remove what the datapath held from before a restart)
   */
  public LocalServiceWatcher(KubernetesClient client, ServiceTable table, MeterRegistry registry, Runnable changed) {
    this.client = client;
    this.table = table;
    this.cluster = table.localCluster();
    this.changed = changed;
    this.rejections =
        Counter.builder("meshwork_agent_local_services_rejected")
            .description("Local Services that could not be programmed (each rejection of a changed object counts)")
            .register(registry);
    Gauge.builder("meshwork_agent_local_services", table, t -> t.count(cluster))
        .description("Services of the local cluster programmed from its Kubernetes API")
        .register(registry);
  }

  public synchronized void start() {
    services = KubernetesModule.retryingForever(client.services().inAnyNamespace().runnableInformer(0));
    slices = KubernetesModule.retryingForever(client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0));
    slices.addIndexers(
        Map.of(
            SLICES_BY_SERVICE,
            slice -> {
              Map<String, String> labels = slice.getMetadata().getLabels();
              String owner = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
              return owner == null ? List.of() : List.of(slice.getMetadata().getNamespace() + "/" + owner);
            }));
    services.addEventHandler(handler(s -> s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()));
    slices.addEventHandler(
        handler(
            s -> {
              Map<String, String> labels = s.getMetadata().getLabels();
              String owner = labels == null ? null : labels.get(SERVICE_NAME_LABEL);
              return owner == null ? null : s.getMetadata().getNamespace() + "/" + owner;
            }));
    CompletableFuture.allOf(
            services.start().toCompletableFuture(), slices.start().toCompletableFuture())
        .thenRun(
            () ->
                worker.execute(
                    () -> {
                      // Everything listed so far, then every key of the table no longer in the API.
                      services.getStore().listKeys().forEach(this::reconcile);
                      for (String name : table.localNames()) {
                        if (services.getStore().getByKey(name) == null) reconcile(name);
                      }
                      synced = true;
                      log.info("local services listed: {} programmed", table.count(cluster));
                      changed.run();
                    }))
        .exceptionally(
            e -> {
              // Until both have listed, services restored after a restart are kept (nothing is removed).
              log.error("cannot list the local Services/EndpointSlices (RBAC: list and watch services and"
                  + " discovery.k8s.io endpointslices): {}", e.toString());
              return null;
            });
  }

  /** Whether both informers have listed and every listed Service has been translated once. */
  public boolean hasSynced() {
    return synced;
  }

  /** The current problem of each local Service that has one, by "namespace/name". */
  public Map<String, String> problems() {
    return new TreeMap<>(problems);
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(java.util.function.Function<T, String> key) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        enqueue(key.apply(obj));
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        enqueue(key.apply(oldObj));
        enqueue(key.apply(newObj));
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        enqueue(key.apply(obj));
      }
    };
  }

  private void enqueue(String key) {
    if (key != null && pending.add(key)) {
      try {
        worker.execute(
            () -> {
              pending.remove(key);
              reconcile(key);
            });
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        pending.remove(key);
      }
    }
  }

  private void reconcile(String key) {
    try {
      int slash = key.indexOf('/');
      String namespace = key.substring(0, slash);
      String name = key.substring(slash + 1);
      Service service = services.getStore().getByKey(key);
      if (service == null) {
        problems.remove(key);
        table.delete(cluster, namespace, name);
        return;
      }
      List<EndpointSlice> own = slices.getIndexer().byIndex(SLICES_BY_SERVICE, key);
      switch (ServiceTranslation.translate(cluster, service, own)) {
        case ServiceTranslation.Accepted a -> {
          table.upsert(a.record());
          if (a.warnings().isEmpty()) {
            problems.remove(key);
          } else {
            String why = String.join("; ", a.warnings());
            if (!why.equals(problems.put(key, why))) {
              log.warn("Service {}: {}", key, why);
            }
          }
        }
        case ServiceTranslation.Skipped s -> {
          problems.remove(key);
          table.delete(cluster, namespace, name);
          log.debug("Service {} not programmed: {}", key, s.why());
        }
        case ServiceTranslation.Rejected r -> {
          String why = "rejected: " + r.why() + "; keeping what was programmed for it";
          if (!why.equals(problems.put(key, why))) {
            rejections.increment();
            log.error("Service {} {}", key, why);
          }
        }
      }
    } catch (RuntimeException e) {
      rejections.increment();
      problems.put(key, "failed: " + e);
      log.error("Service {}: translating it failed", key, e);
    }
  }

  @Override
  public synchronized void close() {
    worker.shutdownNow();
    if (services != null) {
      services.close();
      slices.close();
    }
  }
}
