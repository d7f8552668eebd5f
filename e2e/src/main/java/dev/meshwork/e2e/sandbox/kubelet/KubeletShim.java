package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.operator.controller.Controller;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What kubelet and the controller manager would do for one sandbox cluster, against that
 * cluster's Kubernetes API: ClusterIPs for Services, Pods for Deployments, scheduling, and for
 * every pod on one of {@link Settings#nodes} a network namespace attached by the real CNI plugin,
 * a server process answering with the pod's name, pod status and readiness, EndpointSlices and
 * {@code /etc/netns/<pod netns>/hosts}. See docs/sandbox-kubelet.md.
 */
public final class KubeletShim implements AutoCloseable {

  /**
   * @param clusterName used in logs, events and error messages
   * @param serviceCidr ClusterIPs come from here (not its network address, not its first address)
   * @param nodes the nodes pods are scheduled to, each with its CNI network configuration list
   * @param cniPlugin the {@code meshwork-cni} launcher; its directory is {@code CNI_PATH}
   * @param runDir this cluster's directory: pod records, pids, server logs
   * @param podNetnsPrefix every pod namespace is named {@code <podNetnsPrefix><8 hex digits>}
   */
  public record Settings(
      String clusterName,
      IpPrefix serviceCidr,
      List<NodeSpec> nodes,
      Path cniPlugin,
      Path runDir,
      String podNetnsPrefix) {

    public Settings {
      Objects.requireNonNull(clusterName, "clusterName");
      Objects.requireNonNull(serviceCidr, "serviceCidr of cluster " + clusterName);
      Objects.requireNonNull(nodes, "nodes of cluster " + clusterName);
      Objects.requireNonNull(cniPlugin, "cniPlugin of cluster " + clusterName);
      Objects.requireNonNull(runDir, "runDir of cluster " + clusterName);
      Objects.requireNonNull(podNetnsPrefix, "podNetnsPrefix of cluster " + clusterName);
      nodes = List.copyOf(nodes);
      if (nodes.isEmpty()) {
        throw new IllegalArgumentException("cluster " + clusterName + ": no nodes to schedule pods to");
      }
      Set<String> names = new HashSet<>();
      for (NodeSpec node : nodes) {
        if (!names.add(node.name())) {
          throw new IllegalArgumentException(
              "cluster " + clusterName + ": node " + node.name() + " is listed twice");
        }
      }
      if (serviceCidr.length() > 30) {
        throw new IllegalArgumentException(
            "cluster " + clusterName + ": service CIDR " + serviceCidr + " has no room for ClusterIPs");
      }
      if (!podNetnsPrefix.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")) {
        throw new IllegalArgumentException(
            "cluster " + clusterName + ": pod netns prefix \"" + podNetnsPrefix
                + "\" must be 1 to 32 letters, digits, '_', '.' or '-'");
      }
    }

    NodeSpec node(String name) {
      return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElse(null);
    }
  }

  /**
   * @param name the node's name (spec.nodeName of the pods scheduled to it)
   * @param cniConfList the node's {@code 05-meshwork.conflist}
   */
  public record NodeSpec(String name, Path cniConfList) {
    public NodeSpec {
      Objects.requireNonNull(name, "node name");
      Objects.requireNonNull(cniConfList, "cniConfList of node " + name);
    }
  }

  private static final Logger log = LoggerFactory.getLogger(KubeletShim.class);
  /** How long one plugin call may take (the plugin's own default agent deadline is 60 s). */
  static final Duration CNI_TIMEOUT = Duration.ofSeconds(90);
  /** Every pod this shim runs is looked at again this often (readiness probe, dead servers). */
  static final Duration RESYNC = Duration.ofSeconds(10);
  private static final Duration SYNC_TIMEOUT = Duration.ofMinutes(5);

  private final KubernetesClient api;
  private final Settings settings;
  private final PodStore store;
  private final PodRuntime runtime;
  private final boolean realRuntime;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();
  private final List<Controller> controllers = new ArrayList<>();
  private PodReconciler podReconciler;
  private ScheduledExecutorService resync;
  private boolean started;
  private boolean closed;

  public KubeletShim(KubernetesClient api, Settings settings) {
    this(api, settings, null);
  }

  /** With a runtime of the caller's (tests); {@code null} for the real one. */
  KubeletShim(KubernetesClient api, Settings settings, PodRuntime runtime) {
    this.api = Objects.requireNonNull(api, "api");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.store = new PodStore(settings.runDir());
    this.realRuntime = runtime == null;
    this.runtime =
        runtime != null ? runtime : new NetnsPodRuntime(store, new CniClient(settings.cniPlugin(), CNI_TIMEOUT));
  }

  /**
   * Removes what an earlier shim of this run directory left behind (with CNI DEL), starts the
   * informers and controllers, and returns once every object listed at start was reconciled once
   * (pods existing at start are then running or their failure recorded).
   */
  public synchronized void start() {
    if (started) {
      throw new IllegalStateException("the kubelet shim of cluster " + settings.clusterName() + " was already started");
    }
    started = true;
    if (realRuntime) {
      NetnsPodRuntime.checkTools();
      if (!Files.isExecutable(settings.cniPlugin())) {
        throw new IllegalStateException(
            "cluster " + settings.clusterName() + ": the CNI plugin " + settings.cniPlugin() + " is not an executable file");
      }
      for (NodeSpec node : settings.nodes()) {
        if (!Files.isReadable(node.cniConfList())) {
          throw new IllegalStateException(
              "cluster " + settings.clusterName() + ": node " + node.name() + ": cannot read its CNI configuration list "
                  + node.cniConfList());
        }
      }
    }
    try {
      Files.createDirectories(settings.runDir());
    } catch (IOException e) {
      throw new UncheckedIOException("cluster " + settings.clusterName() + ": cannot create run directory " + settings.runDir(), e);
    }

    SharedIndexInformer<Service> services = track(api.services().inAnyNamespace().runnableInformer(0));
    SharedIndexInformer<Deployment> deployments = track(api.apps().deployments().inAnyNamespace().runnableInformer(0));
    SharedIndexInformer<Pod> pods = track(api.pods().inAnyNamespace().runnableInformer(0));
    SharedIndexInformer<Node> nodes = track(api.nodes().runnableInformer(0));
    SharedIndexInformer<EndpointSlice> slices =
        track(api.discovery().v1().endpointSlices().inAnyNamespace().runnableInformer(0));
    pods.addIndexers(Map.of(PodReconciler.BY_NODE, p -> Pods.nodeName(p) == null ? List.of() : List.of(Pods.nodeName(p))));
    slices.addIndexers(Map.of(EndpointSliceReconciler.BY_SERVICE, EndpointSliceReconciler::serviceKeyOf));

    PodEvents events = new PodEvents(api);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    String cluster = settings.clusterName();
    podReconciler =
        new PodReconciler(api, settings, pods.getIndexer(), services.getIndexer(), nodes.getIndexer(), runtime, store,
            new Scheduler(settings.nodes().stream().map(NodeSpec::name).toList()), events);
    podReconciler.removeLeftovers();

    controllers.add(
        Controller.builder("kubelet-cluster-ip-" + cluster,
                new ClusterIpReconciler(api, services.getIndexer(), new ClusterIpAllocator(settings.serviceCidr()), events, cluster),
                metrics)
            .watch(services, s -> List.of(Pods.key(s)))
            .initialKeys(() -> keys(services))
            .build());
    controllers.add(
        Controller.builder("kubelet-deployments-" + cluster,
                new DeploymentReconciler(api, deployments.getIndexer(), pods.getIndexer(), events, cluster), metrics)
            .watch(deployments, d -> List.of(Pods.key(d)))
            .watch(pods, DeploymentReconciler::ownerKey)
            .initialKeys(() -> keys(deployments))
            .workers(2)
            .build());
    Controller podController =
        Controller.builder("kubelet-pods-" + cluster, podReconciler, metrics)
            .watch(pods, p -> List.of(Pods.key(p)))
            .watch(services, s -> podsAffectedBy(s, pods))
            .watch(nodes, n -> keysOf(pods.getIndexer().byIndex(PodReconciler.BY_NODE, n.getMetadata().getName())))
            .initialKeys(() -> keys(pods))
            .workers(4)
            .build();
    controllers.add(podController);
    controllers.add(
        Controller.builder("kubelet-endpointslices-" + cluster,
                new EndpointSliceReconciler(api, services.getIndexer(), pods.getIndexer(), nodes.getIndexer(), slices.getIndexer(), cluster),
                metrics)
            .watch(services, s -> List.of(Pods.key(s)))
            .watch(pods, p -> keysOf(services.getIndexer().byIndex(Cache.NAMESPACE_INDEX, p.getMetadata().getNamespace())))
            .watch(slices, EndpointSliceReconciler::serviceKeyOf)
            .watch(nodes, n -> keys(services))
            .initialKeys(() -> keys(services))
            .workers(2)
            .build());

    List<CompletableFuture<Void>> synced = new ArrayList<>();
    informers.forEach(i -> synced.add(i.start().toCompletableFuture()));
    await(CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new)), "the informers' initial lists");
    controllers.forEach(Controller::start);
    await(
        CompletableFuture.allOf(controllers.stream().map(Controller::initialSync).toArray(CompletableFuture[]::new)),
        "the initial reconcile of every listed object");
    resync = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("kubelet-resync-" + cluster).factory());
    resync.scheduleWithFixedDelay(
        () -> podReconciler.localKeys().forEach(podController::enqueue),
        RESYNC.toMillis(), RESYNC.toMillis(), TimeUnit.MILLISECONDS);
    log.info("kubelet shim of cluster {} started with nodes {}", cluster,
        settings.nodes().stream().map(NodeSpec::name).toList());
  }

  private void await(CompletableFuture<Void> future, String what) {
    try {
      future.get(SYNC_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("cluster " + settings.clusterName() + ": interrupted while waiting for " + what, e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(
          "cluster " + settings.clusterName() + ": " + what + " did not complete within " + SYNC_TIMEOUT.toMinutes() + " min", e);
    }
  }

  private <T extends HasMetadata> SharedIndexInformer<T> track(SharedIndexInformer<T> informer) {
    // An API server that is briefly unreachable must not stop the informer for good.
    informer.exceptionHandler(
        (started, error) -> {
          log.warn("cluster {}: informer {} failed ({}), retrying: {}", settings.clusterName(),
              informer.getApiTypeClass().getSimpleName(), started ? "watching" : "initial list", error.toString());
          return true;
        });
    informers.add(informer);
    return informer;
  }

  /** A Service change can change the ports of the pods it selects and every pod's hosts file. */
  private Collection<String> podsAffectedBy(Service service, SharedIndexInformer<Pod> pods) {
    Set<String> keys = new LinkedHashSet<>(podReconciler.localKeys());
    keys.addAll(keysOf(pods.getIndexer().byIndex(Cache.NAMESPACE_INDEX, service.getMetadata().getNamespace())));
    return keys;
  }

  private static <T extends HasMetadata> List<String> keys(SharedIndexInformer<T> informer) {
    return keysOf(informer.getIndexer().list());
  }

  private static List<String> keysOf(Collection<? extends HasMetadata> objects) {
    return objects.stream().map(Pods::key).toList();
  }

  /**
   * Stops the controllers, then for every pod this shim runs: CNI DEL (with the ADD result as
   * {@code prevResult}), stops its processes, deletes its network namespace, its {@code
   * /etc/netns/<netns>} directory and its record. Objects in the API are left as they are.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (resync != null) {
      resync.shutdownNow();
    }
    controllers.forEach(Controller::stop);
    informers.forEach(SharedIndexInformer::stop);
    if (podReconciler != null) {
      podReconciler.close();
    }
    log.info("kubelet shim of cluster {} closed", settings.clusterName());
  }

  /**
   * Stops the controllers and informers but leaves every pod running, as a crash of the process
   * would (without killing the children). For tests of {@link #cleanUp}.
   */
  synchronized void abandon() {
    closed = true;
    if (resync != null) {
      resync.shutdownNow();
    }
    controllers.forEach(Controller::stop);
    informers.forEach(SharedIndexInformer::stop);
  }

  /**
   * After a crash: kills every recorded server process (if it is still the same process) and
   * deletes every recorded pod network namespace and {@code /etc/netns} directory, then the
   * records. CNI DEL is not called (the agents may be gone too).
   */
  public static void cleanUp(Path runDir) {
    Objects.requireNonNull(runDir, "runDir");
    for (Path dir : PodStore.podDirs(runDir)) {
      String netns = PodStore.readProperties(dir).map(p -> p.getProperty("netns")).orElse(null);
      NetnsPodRuntime.removeLeftovers(dir, netns);
      try {
        PodStore.deleteTree(dir);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot delete pod record " + dir, e);
      }
    }
  }
}
