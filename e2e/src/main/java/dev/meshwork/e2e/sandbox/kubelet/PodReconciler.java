package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.HostIP;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeAddress;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.PodIP;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's and kubelet's part for one pod ({@code namespace/name}).
 *
 * <ul>
 *   <li>Unscheduled: bind it to the node {@link Scheduler} picks ({@code spec.nodeName}).
 *   <li>On one of this shim's nodes: record the sandbox in the run directory, then create the
 *       network namespace and attach it with CNI ADD (a failure becomes a {@code
 *       FailedCreatePodSandBox} Warning event and a False {@code PodReadyToStartContainers}
 *       condition; the sandbox is detached with DEL and the ADD retried with backoff); write the
 *       name files; run the servers on {@link PodPorts}; probe them from inside the namespace;
 *       write the status (IP, host IP, phase Running, Ready once every port answers; a pod
 *       without ports is Ready at once). Not ready yet: look again shortly.
 *   <li>Deleted, finished, moved or replaced (new uid): CNI DEL with the ADD result as {@code
 *       prevResult}, stop its processes, delete its namespace, name files and record. A failed
 *       DEL is retried (the agent holds the pod's address), as kubelet does.
 * </ul>
 */
final class PodReconciler implements Reconciler {

  private static final Logger log = LoggerFactory.getLogger(PodReconciler.class);
  private static final Duration NOT_READY_RECHECK = Duration.ofMillis(100);
  private static final Duration CONFLICT_RECHECK = Duration.ofMillis(200);
  private static final Duration TRY_AGAIN = Duration.ofSeconds(1);
  static final String BY_NODE = "byNode";

  private final KubernetesClient api;
  private final KubeletShim.Settings settings;
  private final Indexer<Pod> pods;
  private final Indexer<Service> services;
  private final Indexer<Node> nodes;
  private final PodRuntime runtime;
  private final PodStore store;
  private final Scheduler scheduler;
  private final PodEvents events;
  private final SecureRandom random = new SecureRandom();
  private final Map<String, LocalPod> locals = new ConcurrentHashMap<>();
  private boolean closed;

  /** A pod this shim runs; guarded by its own monitor. */
  private static final class LocalPod {
    final Sandbox sandbox;
    final Instant started = Instant.now();
    String ip;
    String cniResult;
    String hosts;
    String resolvConf;
    String lastFailure;
    boolean removed;

    LocalPod(Sandbox sandbox) {
      this.sandbox = sandbox;
    }
  }

  PodReconciler(
      KubernetesClient api, KubeletShim.Settings settings, Indexer<Pod> pods, Indexer<Service> services,
      Indexer<Node> nodes, PodRuntime runtime, PodStore store, Scheduler scheduler, PodEvents events) {
    this.api = api;
    this.settings = settings;
    this.pods = pods;
    this.services = services;
    this.nodes = nodes;
    this.runtime = runtime;
    this.store = store;
    this.scheduler = scheduler;
    this.events = events;
  }

  /** Keys of the pods this shim runs a sandbox for. */
  List<String> localKeys() {
    return List.copyOf(locals.keySet());
  }

  @Override
  public ReconcileResult reconcile(String key) throws Exception {
    Pod pod = pods.getByKey(key);
    LocalPod local = locals.get(key);
    boolean runsHere =
        pod != null && !Pods.isTerminating(pod) && !Pods.isFinished(pod)
            && Pods.nodeName(pod) != null && settings.node(Pods.nodeName(pod)) != null;
    if (local != null && (!runsHere || !local.sandbox.uid().equals(pod.getMetadata().getUid()))) {
      synchronized (local) {
        tearDown(local, true);
      }
      locals.remove(key, local);
      local = null;
    }
    if (pod == null || Pods.isTerminating(pod) || Pods.isFinished(pod)) {
      scheduler.forget(key);
      return ReconcileResult.done();
    }
    if (Pods.nodeName(pod) == null) {
      return bind(key, pod) ? ReconcileResult.done() : ReconcileResult.requeueAfter(CONFLICT_RECHECK);
    }
    scheduler.forget(key);
    KubeletShim.NodeSpec node = settings.node(Pods.nodeName(pod));
    if (node == null) {
      return ReconcileResult.done();
    }
    if (local == null) {
      synchronized (this) {
        if (closed) {
          return ReconcileResult.done();
        }
        local = new LocalPod(newSandbox(pod, node));
        locals.put(key, local);
      }
    }
    synchronized (local) {
      if (local.removed) {
        return ReconcileResult.done();
      }
      return run(pod, local);
    }
  }

  private Sandbox newSandbox(Pod pod, KubeletShim.NodeSpec node) throws IOException {
    byte[] id = new byte[32];
    random.nextBytes(id);
    String containerId = HexFormat.of().formatHex(id);
    String netns = settings.podNetnsPrefix() + containerId.substring(0, 8);
    // The record comes first: whatever happens next, cleanUp finds the namespace and processes.
    return store.create(
        pod.getMetadata().getNamespace(), pod.getMetadata().getName(), pod.getMetadata().getUid(),
        node.name(), node.cniConfList(), netns, containerId);
  }

  private ReconcileResult run(Pod pod, LocalPod local) throws Exception {
    Sandbox sandbox = local.sandbox;
    if (local.ip == null) {
      PodRuntime.Attachment attachment;
      try {
        attachment = runtime.attach(sandbox);
      } catch (PodRuntimeException e) {
        // The same failure again (e.g. an agent still starting) is one event, not one per attempt.
        boolean repeated = e.getMessage().equals(local.lastFailure);
        local.lastFailure = e.getMessage();
        if (!repeated) {
          events.warning(pod, "kubelet", sandbox.node(), "FailedCreatePodSandBox",
              "Failed to create pod sandbox: " + e.getMessage());
        }
        try {
          runtime.detach(sandbox, null);
        } catch (PodRuntimeException cleanup) {
          e.addSuppressed(cleanup);
        }
        writeStatus(pod, pendingStatus(pod, e.getMessage()));
        if (e.cniCode() == PodRuntimeException.TRY_AGAIN_LATER) {
          // CNI's "try again later" (the agent is not up yet): every second, not with growing backoff.
          if (!repeated) {
            log.warn("cluster {}: {}; trying again every {} ms", settings.clusterName(), e.getMessage(), TRY_AGAIN.toMillis());
          }
          return ReconcileResult.requeueAfter(TRY_AGAIN);
        }
        throw new IllegalStateException(
            "cluster " + settings.clusterName() + ": " + e.getMessage(), e);
      }
      local.lastFailure = null;
      store.recordAttachment(sandbox, attachment.ip(), attachment.cniResult());
      local.ip = attachment.ip();
      local.cniResult = attachment.cniResult();
      log.info("cluster {}: {} has IP {}", settings.clusterName(), sandbox, local.ip);
    }
    List<Service> all = services.list();
    String hosts = NameFiles.hosts(settings.clusterName(), sandbox.namespace(), sandbox.name(), local.ip, all);
    String resolvConf = NameFiles.resolvConf(sandbox.namespace());
    if (!hosts.equals(local.hosts) || !resolvConf.equals(local.resolvConf)) {
      runtime.writeNameFiles(sandbox, hosts, resolvConf);
      local.hosts = hosts;
      local.resolvConf = resolvConf;
    }
    Set<Integer> ports = PodPorts.of(pod, services.byIndex(Cache.NAMESPACE_INDEX, sandbox.namespace()));
    try {
      runtime.serve(sandbox, sandbox.name(), ports);
    } catch (PodRuntimeException e) {
      events.warning(pod, "kubelet", sandbox.node(), "Failed", e.getMessage());
      throw new IllegalStateException("cluster " + settings.clusterName() + ": " + e.getMessage(), e);
    }
    boolean ready = true;
    for (int port : ports) {
      if (!runtime.accepts(sandbox, local.ip, port)) {
        ready = false;
        break;
      }
    }
    if (!writeStatus(pod, runningStatus(pod, local, ready))) {
      return ReconcileResult.requeueAfter(CONFLICT_RECHECK);
    }
    return ready ? ReconcileResult.done() : ReconcileResult.requeueAfter(NOT_READY_RECHECK);
  }

  /** Binds the pod to a node; false on a conflict (the cache is behind: look again shortly). */
  private boolean bind(String key, Pod pod) {
    String node = scheduler.pick(key, pods.list());
    try {
      api.pods().inNamespace(pod.getMetadata().getNamespace())
          .resource(new PodBuilder(pod).editOrNewSpec().withNodeName(node).endSpec().build())
          .update();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        scheduler.forget(key);
        return true;
      }
      if (e.getCode() == 409) {
        return false;
      }
      throw new IllegalStateException(
          "cluster " + settings.clusterName() + ": cannot bind pod " + key + " to node " + node + ": " + e.getMessage(), e);
    }
    events.normal(pod, "default-scheduler", null, "Scheduled", "Successfully assigned " + key + " to " + node);
    log.info("cluster {}: pod {} scheduled to node {}", settings.clusterName(), key, node);
    return true;
  }

  /**
   * CNI DEL, processes, namespace, name files, record. With {@code strict}, a failed DEL throws
   * and keeps everything for the retry; otherwise (closing) it is logged and the rest removed.
   */
  private void tearDown(LocalPod local, boolean strict) {
    if (local.removed) {
      return;
    }
    Sandbox sandbox = local.sandbox;
    String prevResult = local.cniResult != null ? local.cniResult : store.cniResult(sandbox).orElse(null);
    try {
      runtime.detach(sandbox, prevResult);
    } catch (PodRuntimeException e) {
      if (strict) {
        throw new IllegalStateException(
            "cluster " + settings.clusterName() + ": CNI DEL failed, will retry: " + e.getMessage(), e);
      }
      log.warn("cluster {}: {}: CNI DEL failed, removing the sandbox anyway: {}",
          settings.clusterName(), sandbox, e.getMessage());
    }
    runtime.remove(sandbox);
    try {
      store.delete(sandbox);
    } catch (IOException e) {
      throw new UncheckedIOException("cluster " + settings.clusterName() + ": cannot delete the record of " + sandbox, e);
    }
    local.removed = true;
    log.info("cluster {}: removed {}", settings.clusterName(), sandbox);
  }

  /** Stops handling pods and removes every sandbox (CNI DEL failures are logged). */
  void close() {
    synchronized (this) {
      closed = true;
    }
    for (LocalPod local : List.copyOf(locals.values())) {
      synchronized (local) {
        try {
          tearDown(local, false);
        } catch (RuntimeException e) {
          log.warn("cluster {}: cannot remove {}: {}", settings.clusterName(), local.sandbox, e.toString());
        }
      }
    }
    locals.clear();
  }

  /** Removes sandboxes recorded by an earlier shim of this run directory that did not close. */
  void removeLeftovers() {
    for (Sandbox sandbox : store.sandboxes()) {
      log.info("cluster {}: removing {} left by an earlier run", settings.clusterName(), sandbox);
      LocalPod local = new LocalPod(sandbox);
      local.cniResult = store.cniResult(sandbox).orElse(null);
      tearDown(local, false);
    }
  }

  /** Writes the status unless it is unchanged; false on a conflict (the cache is behind). */
  private boolean writeStatus(Pod pod, PodStatus status) {
    if (projection(status).equals(projection(pod.getStatus()))) {
      return true;
    }
    try {
      api.pods().inNamespace(pod.getMetadata().getNamespace())
          .resource(new PodBuilder(pod).withStatus(status).build())
          .updateStatus();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404 || e.getCode() == 409) {
        return false;
      }
      throw new IllegalStateException(
          "cluster " + settings.clusterName() + ": cannot write the status of pod " + Pods.key(pod) + ": " + e.getMessage(), e);
    }
  }

  private PodStatus runningStatus(Pod pod, LocalPod local, boolean ready) {
    String hostIp = hostIp(local.sandbox.node());
    String started = local.started.toString();
    String readiness = ready ? "True" : "False";
    List<PodCondition> conditions = new ArrayList<>();
    conditions.add(condition(pod, "PodReadyToStartContainers", "True", null, null));
    conditions.add(condition(pod, "Initialized", "True", null, null));
    conditions.add(condition(pod, "Ready", readiness, ready ? null : "ContainersNotReady", null));
    conditions.add(condition(pod, "ContainersReady", readiness, ready ? null : "ContainersNotReady", null));
    conditions.add(condition(pod, "PodScheduled", "True", null, null));
    List<ContainerStatus> containers = new ArrayList<>();
    if (pod.getSpec() != null && pod.getSpec().getContainers() != null) {
      for (Container container : pod.getSpec().getContainers()) {
        containers.add(
            new ContainerStatusBuilder()
                .withName(container.getName())
                .withImage(container.getImage())
                .withImageID("")
                .withContainerID("sandbox://" + local.sandbox.containerId())
                .withReady(ready)
                .withStarted(true)
                .withRestartCount(0)
                .withNewState().withNewRunning().withStartedAt(started).endRunning().endState()
                .build());
      }
    }
    return new PodStatusBuilder()
        .withPhase("Running")
        .withPodIP(local.ip)
        .withPodIPs(new PodIP(local.ip))
        .withHostIP(hostIp)
        .withHostIPs(hostIp == null ? List.of() : List.of(new HostIP(hostIp)))
        .withStartTime(started)
        .withConditions(conditions)
        .withContainerStatuses(containers)
        .withQosClass("BestEffort")
        .build();
  }

  private PodStatus pendingStatus(Pod pod, String message) {
    return new PodStatusBuilder()
        .withPhase("Pending")
        .withConditions(
            condition(pod, "PodReadyToStartContainers", "False", "FailedCreatePodSandBox", message),
            condition(pod, "PodScheduled", "True", null, null))
        .build();
  }

  /** A condition that keeps its transition time while its status does not change. */
  private static PodCondition condition(Pod pod, String type, String status, String reason, String message) {
    String since = Instant.now().toString();
    if (pod.getStatus() != null && pod.getStatus().getConditions() != null) {
      for (PodCondition existing : pod.getStatus().getConditions()) {
        if (type.equals(existing.getType()) && status.equals(existing.getStatus()) && existing.getLastTransitionTime() != null) {
          since = existing.getLastTransitionTime();
        }
      }
    }
    return new PodConditionBuilder()
        .withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withLastTransitionTime(since)
        .build();
  }

  /** The node's InternalIP from its Node object, if there is one. */
  private String hostIp(String nodeName) {
    Node node = nodes.getByKey(nodeName);
    if (node == null || node.getStatus() == null || node.getStatus().getAddresses() == null) {
      return null;
    }
    return node.getStatus().getAddresses().stream()
        .filter(a -> "InternalIP".equals(a.getType()))
        .map(NodeAddress::getAddress)
        .findFirst()
        .orElse(null);
  }

  /** The status fields this reconciler sets, to write only on a change. */
  private static String projection(PodStatus status) {
    if (status == null) {
      return "";
    }
    StringBuilder out = new StringBuilder();
    out.append(status.getPhase()).append('|').append(status.getPodIP()).append('|').append(status.getHostIP()).append('|');
    for (PodCondition c : Objects.requireNonNullElse(status.getConditions(), List.<PodCondition>of())) {
      out.append(c.getType()).append('=').append(c.getStatus()).append('/').append(c.getMessage()).append(';');
    }
    for (ContainerStatus c : Objects.requireNonNullElse(status.getContainerStatuses(), List.<ContainerStatus>of())) {
      out.append(c.getName()).append('=').append(c.getReady()).append(';');
    }
    return out.toString();
  }
}
