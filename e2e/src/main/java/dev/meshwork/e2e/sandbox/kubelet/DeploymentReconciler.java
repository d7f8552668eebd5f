package dev.meshwork.e2e.sandbox.kubelet;

import dev.meshwork.operator.controller.ReconcileResult;
import dev.meshwork.operator.controller.Reconciler;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatus;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.Indexer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Deployment and ReplicaSet controllers, simplified: a Deployment owns its pods directly
 * (no ReplicaSet objects). Pods are named {@code <deployment>-<template hash>-<5 characters>},
 * carry the template's labels plus {@code pod-template-hash}, and an owner reference to the
 * Deployment ({@code controller: true}). The controller keeps {@code spec.replicas} pods of the
 * current template: it creates the missing ones, deletes surplus ones (unscheduled first, then
 * not ready, then the newest), replaces pods of an older template all at once (no rolling
 * update), deletes the pods of a Deployment that is gone (the garbage collector's job) and
 * writes the Deployment's status counts.
 */
final class DeploymentReconciler implements Reconciler {

  private static final Logger log = LoggerFactory.getLogger(DeploymentReconciler.class);
  static final String TEMPLATE_HASH_LABEL = "pod-template-hash";
  private static final String SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
  private static final Duration EXPECTATION_TIMEOUT = Duration.ofSeconds(30);

  private final KubernetesClient api;
  private final Indexer<Deployment> deployments;
  private final Indexer<Pod> pods;
  private final PodEvents events;
  private final String clusterName;
  private final SecureRandom random = new SecureRandom();
  /** Pods created or deleted but not yet seen so by the cache, per Deployment key. */
  private final Map<String, Expectations> expectations = new ConcurrentHashMap<>();

  private record Expectations(Set<String> creates, Set<String> deletes, Instant deadline) {}

  DeploymentReconciler(
      KubernetesClient api, Indexer<Deployment> deployments, Indexer<Pod> pods, PodEvents events, String clusterName) {
    this.api = api;
    this.deployments = deployments;
    this.pods = pods;
    this.events = events;
    this.clusterName = clusterName;
  }

  /** The Deployment key of a pod it owns, for the pod informer's events. */
  static List<String> ownerKey(Pod pod) {
    return Pods.controllerOf(pod)
        .filter(o -> "Deployment".equals(o.getKind()))
        .map(o -> pod.getMetadata().getNamespace() + "/" + o.getName())
        .stream()
        .toList();
  }

  @Override
  public ReconcileResult reconcile(String key) {
    String namespace = key.substring(0, key.indexOf('/'));
    String name = key.substring(key.indexOf('/') + 1);
    Deployment deployment = deployments.getByKey(key);
    List<Pod> owned =
        pods.byIndex(Cache.NAMESPACE_INDEX, namespace).stream()
            .filter(p -> Pods.controllerOf(p).filter(o -> "Deployment".equals(o.getKind()) && name.equals(o.getName())).isPresent())
            .toList();
    if (deployment == null) {
      expectations.remove(key);
      for (Pod pod : owned) {
        delete(pod, "its Deployment " + key + " is gone");
      }
      return ReconcileResult.done();
    }
    String uid = deployment.getMetadata().getUid();
    List<Pod> orphans =
        owned.stream().filter(p -> !Objects.equals(Pods.controllerOf(p).get().getUid(), uid)).toList();
    for (Pod pod : orphans) {
      delete(pod, "it belongs to an earlier Deployment " + key);
    }
    if (!expectationsMet(key)) {
      return ReconcileResult.requeueAfter(Duration.ofSeconds(1));
    }
    List<Pod> active =
        owned.stream().filter(p -> !orphans.contains(p) && !Pods.isTerminating(p) && !Pods.isFinished(p)).toList();
    PodTemplateSpec template = deployment.getSpec().getTemplate();
    String hash = templateHash(template);
    List<Pod> current = active.stream().filter(p -> hash.equals(Pods.labels(p).get(TEMPLATE_HASH_LABEL))).toList();
    List<Pod> outdated = active.stream().filter(p -> !current.contains(p)).toList();
    Set<String> created = new HashSet<>();
    Set<String> deleted = new HashSet<>();
    for (Pod pod : outdated) {
      if (delete(pod, "its template is outdated")) {
        deleted.add(pod.getMetadata().getName());
      }
    }
    int replicas = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
    if (current.size() < replicas) {
      for (int i = current.size(); i < replicas; i++) {
        created.add(create(deployment, template, hash));
      }
    } else if (current.size() > replicas) {
      List<Pod> surplus = new ArrayList<>(current);
      surplus.sort(
          Comparator.comparing((Pod p) -> Pods.nodeName(p) != null)
              .thenComparing(Pods::isReady)
              .thenComparing(
                  (Pod p) -> Objects.requireNonNullElse(p.getMetadata().getCreationTimestamp(), ""),
                  Comparator.reverseOrder()));
      for (Pod pod : surplus.subList(0, current.size() - replicas)) {
        if (delete(pod, "Deployment " + key + " was scaled down to " + replicas)) {
          deleted.add(pod.getMetadata().getName());
        }
      }
    }
    if (!created.isEmpty() || !deleted.isEmpty()) {
      expectations.put(key, new Expectations(created, deleted, Instant.now().plus(EXPECTATION_TIMEOUT)));
    }
    if (!writeStatus(deployment, active, current)) {
      return ReconcileResult.requeueAfter(Duration.ofMillis(200));
    }
    return ReconcileResult.done();
  }

  /** Whether the cache shows every pod created and none deleted by the previous reconcile. */
  private boolean expectationsMet(String key) {
    Expectations pending = expectations.get(key);
    if (pending == null) {
      return true;
    }
    String namespace = key.substring(0, key.indexOf('/'));
    boolean met =
        pending.creates().stream().allMatch(n -> pods.getByKey(namespace + "/" + n) != null)
            && pending.deletes().stream().allMatch(n -> {
              Pod pod = pods.getByKey(namespace + "/" + n);
              return pod == null || Pods.isTerminating(pod);
            });
    if (met || Instant.now().isAfter(pending.deadline())) {
      if (!met) {
        log.warn("deployment {} in cluster {}: the cache did not show its pod changes within {} s; going on",
            key, clusterName, EXPECTATION_TIMEOUT.toSeconds());
      }
      expectations.remove(key);
      return true;
    }
    return false;
  }

  private String create(Deployment deployment, PodTemplateSpec template, String hash) {
    String namespace = deployment.getMetadata().getNamespace();
    String deploymentName = deployment.getMetadata().getName();
    Map<String, String> labels = new LinkedHashMap<>();
    if (template.getMetadata() != null && template.getMetadata().getLabels() != null) {
      labels.putAll(template.getMetadata().getLabels());
    }
    labels.put(TEMPLATE_HASH_LABEL, hash);
    OwnerReference owner =
        new OwnerReferenceBuilder()
            .withApiVersion("apps/v1")
            .withKind("Deployment")
            .withName(deploymentName)
            .withUid(deployment.getMetadata().getUid())
            .withController(true)
            .withBlockOwnerDeletion(true)
            .build();
    PodSpec spec = template.getSpec() == null ? new PodSpec() : Serialization.clone(template.getSpec());
    for (int attempt = 0; ; attempt++) {
      String name = podName(deploymentName, hash);
      Pod pod =
          new PodBuilder()
              .withNewMetadata()
              .withName(name)
              .withNamespace(namespace)
              .withLabels(labels)
              .withAnnotations(template.getMetadata() == null ? null : template.getMetadata().getAnnotations())
              .withOwnerReferences(owner)
              .endMetadata()
              .withSpec(spec)
              .build();
      try {
        api.pods().inNamespace(namespace).resource(pod).create();
        events.normal(deployment, "deployment-controller", null, "SuccessfulCreate", "Created pod: " + name);
        log.info("deployment {}/{} in cluster {}: created pod {}", namespace, deploymentName, clusterName, name);
        return name;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt >= 3) {
          throw new IllegalStateException(
              "deployment " + namespace + "/" + deploymentName + " in cluster " + clusterName
                  + ": cannot create pod " + name + ": " + e.getMessage(), e);
        }
      }
    }
  }

  private boolean delete(Pod pod, String why) {
    String key = Pods.key(pod);
    try {
      api.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
      log.info("cluster {}: deleted pod {}: {}", clusterName, key, why);
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return false;
      }
      throw new IllegalStateException("cluster " + clusterName + ": cannot delete pod " + key + ": " + e.getMessage(), e);
    }
  }

  /** Writes the status counts if they changed; false on a conflict (the cache is behind). */
  private boolean writeStatus(Deployment deployment, List<Pod> active, List<Pod> current) {
    int ready = (int) active.stream().filter(Pods::isReady).count();
    int replicas = deployment.getSpec().getReplicas() == null ? 1 : deployment.getSpec().getReplicas();
    DeploymentStatus status =
        new DeploymentStatusBuilder()
            .withObservedGeneration(deployment.getMetadata().getGeneration())
            .withReplicas(active.size())
            .withUpdatedReplicas(current.size())
            .withReadyReplicas(ready)
            .withAvailableReplicas(ready)
            .withUnavailableReplicas(Math.max(0, replicas - ready))
            .build();
    if (projection(status).equals(projection(deployment.getStatus()))) {
      return true;
    }
    try {
      api.apps().deployments().inNamespace(deployment.getMetadata().getNamespace())
          .resource(new DeploymentBuilder(deployment).withStatus(status).build())
          .updateStatus();
      return true;
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return true;
      }
      if (e.getCode() == 409) {
        return false;
      }
      throw new IllegalStateException(
          "deployment " + Pods.key(deployment) + " in cluster " + clusterName + ": cannot write its status: " + e.getMessage(), e);
    }
  }

  private static String projection(DeploymentStatus status) {
    if (status == null) {
      return "";
    }
    return status.getObservedGeneration() + "/" + status.getReplicas() + "/" + status.getUpdatedReplicas() + "/"
        + status.getReadyReplicas() + "/" + status.getAvailableReplicas() + "/" + status.getUnavailableReplicas();
  }

  /** A stable hash of the pod template, in the characters Kubernetes uses for generated names. */
  static String templateHash(PodTemplateSpec template) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256")
          .digest(Serialization.asJson(template).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 10; i++) {
      out.append(SAFE_ALPHABET.charAt((digest[i] & 0xff) % SAFE_ALPHABET.length()));
    }
    return out.toString();
  }

  private String podName(String deployment, String hash) {
    StringBuilder suffix = new StringBuilder();
    for (int i = 0; i < 5; i++) {
      suffix.append(SAFE_ALPHABET.charAt(random.nextInt(SAFE_ALPHABET.length())));
    }
    String prefix = deployment + "-" + hash + "-";
    if (prefix.length() + 5 > 63) {
      prefix = prefix.substring(0, 63 - 5);
    }
    return prefix + suffix;
  }
}
