package dev.meshwork.operator;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.controller.Controller;
import dev.meshwork.operator.events.EventRecorder;
import dev.meshwork.operator.identity.IdentityAllocator;
import dev.meshwork.operator.identity.IdentityRegistry;
import dev.meshwork.operator.identity.LabelSet;
import dev.meshwork.operator.ipam.CidrPool;
import dev.meshwork.operator.ipam.MeshNode;
import dev.meshwork.operator.ipam.PodCidrAllocator;
import dev.meshwork.operator.ipcache.PodReconciler;
import dev.meshwork.operator.node.NodeReconciler;
import dev.meshwork.operator.service.ServiceReconciler;
import dev.meshwork.operator.state.ClusterStateWriter;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything the leader runs against Kubernetes: the informers, the node (IPAM), service and pod
 * (identity, ipcache) controllers, and the identity garbage collector. Started once; a
 * controller's informers sync before its workers run, IPAM and identities are restored before
 * their controllers start,
 * and each kind is declared synced to the writer once its controller has seen every object once.
 */
public final class ActiveOperator {

  private static final Logger log = LoggerFactory.getLogger(ActiveOperator.class);

  private final LocalCluster cluster;
  private final ClusterStateWriter writer;
  private final IdentityRegistry identities;
  private final PodCidrAllocator ipam;
  private final Duration gcInterval;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final SharedIndexInformer<Node> nodeInformer;
  private final SharedIndexInformer<MeshNode> meshNodeInformer;
  private final SharedIndexInformer<Service> serviceInformer;
  private final SharedIndexInformer<EndpointSlice> sliceInformer;
  private final SharedIndexInformer<Pod> podInformer;
  private final Controller nodes;
  private final Controller services;
  private final Controller pods;
  private final ScheduledExecutorService gc =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("meshwork-identity-gc").factory());
  private final CompletableFuture<Void> initialSync = new CompletableFuture<>();

  public ActiveOperator(
      OperatorConfig config,
      KubernetesClient client,
      ClusterStateWriter writer,
      IdentityAllocator allocator,
      EventRecorder events,
      MeterRegistry registry,
      Clock clock) {
    this.cluster = config.cluster();
    this.writer = writer;
    this.identities =
        new IdentityRegistry(cluster, allocator, writer, clock, config.identityGcGrace(), registry);
    this.ipam =
        new PodCidrAllocator(new CidrPool(config.poolCidr(), config.poolMaskSize()), client, events);
    this.gcInterval = gcInterval(config.identityGcGrace());

    nodeInformer = track(client.nodes().runnableInformer(0));
    meshNodeInformer = track(client.resources(MeshNode.class).runnableInformer(0));
    serviceInformer = track(client.services().inAnyNamespace().runnableInformer(0));
    sliceInformer =
        track(client.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0));
    sliceInformer.addIndexers(Map.of(ServiceReconciler.SLICES_BY_SERVICE, ServiceReconciler.sliceIndex()));
    podInformer = track(client.pods().inAnyNamespace().runnableInformer(0));

    Controller[] nodeController = new Controller[1];
    nodes =
        Controller.builder(
                "nodes",
                new NodeReconciler(
                    cluster,
                    nodeInformer.getIndexer(),
                    meshNodeInformer.getIndexer(),
                    ipam,
                    writer,
                    released -> requeueNodesWithoutBlock(nodeController[0])),
                registry)
            .watch(nodeInformer, ActiveOperator::nameKey)
            .watch(meshNodeInformer, ActiveOperator::nameKey)
            .initialKeys(() -> union(keys(nodeInformer), keys(meshNodeInformer)))
            .workers(config.workers())
            .build();
    nodeController[0] = nodes;
    services =
        Controller.builder(
                "services",
                new ServiceReconciler(
                    cluster, serviceInformer.getIndexer(), sliceInformer.getIndexer(), writer, events),
                registry)
            .watch(serviceInformer, s -> List.of(Cache.metaNamespaceKeyFunc(s)))
            .watch(sliceInformer, ServiceReconciler::serviceKeyOf)
            .initialKeys(() -> keys(serviceInformer))
            .workers(config.workers())
            .build();
    pods =
        Controller.builder(
                "pods",
                new PodReconciler(cluster, podInformer.getIndexer(), identities, writer),
                registry)
            .watch(podInformer, p -> List.of(Cache.metaNamespaceKeyFunc(p)))
            .initialKeys(() -> keys(podInformer))
            .workers(config.workers())
            .build();
  }

  /** Checks for expired identities a few times per grace period, at most every 30 s. */
  static Duration gcInterval(Duration grace) {
    Duration quarter = grace.dividedBy(4);
    if (quarter.compareTo(Duration.ofMillis(100)) < 0) {
      return Duration.ofMillis(100);
    }
    return quarter.compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : quarter;
  }

  private <T extends HasMetadata> SharedIndexInformer<T> track(SharedIndexInformer<T> informer) {
    // fabric8 gives up on an informer whose first list fails; an API server that is slow or
    // restarting while the operator starts must not stop it, so every failure is retried.
    informer.exceptionHandler(
        (started, error) -> {
          log.warn("informer {} failed ({}), retrying: {}",
              informer.getApiTypeClass().getSimpleName(), started ? "watching" : "initial list", error.toString());
          return true;
        });
    informers.add(informer);
    return informer;
  }

  /**
   * Starts the informers, then each controller as soon as the informers it reads have synced:
   * nodes (after restoring IPAM), services, and pods (after restoring and claiming identities).
   * The nodes, whose IPAM writes to the API server are the slowest part of an initial sync, thus
   * do not wait for the list of every pod. Returns once all workers run; {@link #initialSync()}
   * completes later.
   */
  public void start() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
    Map<SharedIndexInformer<?>, CompletableFuture<Void>> synced = new java.util.IdentityHashMap<>();
    for (SharedIndexInformer<?> informer : informers) {
      synced.put(informer, informer.start().toCompletableFuture());
    }
    CompletableFuture.allOf(nodes.initialSync(), services.initialSync(), pods.initialSync())
        .thenRun(() -> initialSync.complete(null));

    awaitSynced(synced, deadline, nodeInformer, meshNodeInformer);
    ipam.restore(meshNodeInformer.getIndexer().list());
    nodes.initialSync().thenRun(() -> writer.initialSyncDone(Kind.NODES));
    nodes.start();

    awaitSynced(synced, deadline, serviceInformer, sliceInformer);
    services.initialSync().thenRun(() -> writer.initialSyncDone(Kind.SERVICES));
    services.start();

    awaitSynced(synced, deadline, podInformer);
    log.info("informers synced for cluster {}", cluster.name());
    identities.restore();
    prepareIdentities();
    pods.initialSync()
        .thenRun(
            () -> {
              writer.initialSyncDone(Kind.IDENTITIES);
              writer.initialSyncDone(Kind.IPCACHE);
            });
    pods.start();
    gc.scheduleWithFixedDelay(
        this::collectGarbage, gcInterval.toMillis(), gcInterval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static void awaitSynced(
      Map<SharedIndexInformer<?>, CompletableFuture<Void>> synced, long deadline, SharedIndexInformer<?>... informers)
      throws Exception {
    for (SharedIndexInformer<?> informer : informers) {
      synced.get(informer).get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
  }

  /**
   * Claims the identities of the pods already known in bulk, before the pod workers start, so
   * that they find them allocated instead of claiming one per etcd transaction. A failure here
   * only costs time: the workers then claim one by one, with their own retries.
   */
  private void prepareIdentities() {
    long start = System.nanoTime();
    Set<LabelSet> needed = new LinkedHashSet<>();
    for (Pod pod : podInformer.getIndexer().list()) {
      PodReconciler.identityLabels(pod, cluster.name()).ifPresent(needed::add);
    }
    log.info("{} label sets of the known pods of cluster {} computed in {} ms",
        needed.size(), cluster.name(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    try {
      identities.prepare(needed);
    } catch (Exception e) {
      log.warn("claiming the identities of {} label sets in bulk failed; pods will claim them one by one: {}",
          needed.size(), e.toString());
    }
  }

  /** Completes when every kind has had its initial sync handed to the writer. */
  public CompletableFuture<Void> initialSync() {
    return initialSync;
  }

  public void stop() {
    gc.shutdownNow();
    pods.stop();
    services.stop();
    nodes.stop();
    informers.forEach(SharedIndexInformer::stop);
  }

  /** The identity registry, for status and tests. */
  public IdentityRegistry identities() {
    return identities;
  }

  /** The IPAM allocator, for status and tests. */
  public PodCidrAllocator ipam() {
    return ipam;
  }

  /** The informers (Node, MeshNode, Service, EndpointSlice, Pod), for status and benchmarks. */
  public List<SharedIndexInformer<?>> informers() {
    return List.copyOf(informers);
  }

  /** The controllers (nodes, services, pods), for status and benchmarks. */
  public List<Controller> controllers() {
    return List.of(nodes, services, pods);
  }

  private void collectGarbage() {
    try {
      identities.collectGarbage();
    } catch (RuntimeException e) {
      log.warn("identity garbage collection failed: {}", e.toString(), e);
    }
  }

  private void requeueNodesWithoutBlock(Controller controller) {
    for (Node node : nodeInformer.getIndexer().list()) {
      String name = node.getMetadata().getName();
      if (ipam.allocationOf(name).isEmpty()) {
        controller.enqueue(name);
      }
    }
  }

  private static List<String> nameKey(HasMetadata object) {
    return List.of(object.getMetadata().getName());
  }

  private static Collection<String> keys(SharedIndexInformer<?> informer) {
    return informer.getIndexer().listKeys();
  }

  private static Collection<String> union(Collection<String> a, Collection<String> b) {
    Set<String> all = new LinkedHashSet<>(a);
    all.addAll(b);
    return all;
  }
}
