package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import io.fabric8.kubernetes.api.model.HostAlias;
import io.fabric8.kubernetes.api.model.HostAliasBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The changes that make one cluster's agents read one remote cluster's etcd, or stop reading it,
 * in the objects the meshwork chart mounts into the agents:
 *
 * <ul>
 *   <li>Secret {@value MeshNames#SECRET_NAME}: the remote's four entries, exactly as the offline
 *       `connect` writes them ({@link ConnectionFiles.RemoteEntry});
 *   <li>the host alias {@code <remote>.mesh.meshwork.dev -> IP} of the agent DaemonSet (and of the
 *       kvstore-sync Deployment when there is one), when the remote's etcd is reached at an IP.
 * </ul>
 *
 * Planning reads only; {@link Step#apply()} writes. An entry that is still right (same endpoint,
 * same CA, a client certificate from that CA for this cluster, valid for a while) is kept, so a
 * second run changes nothing.
 */
final class KubeConnect {

  /** One change to one object; {@code apply} performs it. */
  record Step(String cluster, String action, Runnable apply) {}

  /** A certificate is reissued when it has less than this left (or a third of its validity if that is shorter). */
  static final Duration RENEW_BEFORE = Duration.ofDays(30);

  private static final String HELM_MANAGED_BY = "Helm";

  private final String mountPath;
  private final Duration validity;
  private final Clock clock;

  KubeConnect(String mountPath, Duration validity, Clock clock) {
    this.mountPath = mountPath;
    this.validity = validity;
    this.clock = clock;
  }

  /** What {@code local} needs to read {@code remote}'s etcd at {@code address}. */
  List<Step> connect(InstalledCluster local, String remote, EtcdAddress address, CertificateAuthority remoteCa) {
    List<Step> steps = new ArrayList<>();
    secretStep(local, remote, current -> {
      String endpoint = address.endpoint(remote);
      Optional<Rewrite> rewrite = rewrite(current, local.name(), remote, endpoint, remoteCa);
      if (rewrite.isEmpty()) {
        return Optional.empty();
      }
      ConnectionFiles.RemoteEntry entry = ConnectionFiles.RemoteEntry.issue(local.name(), remote, endpoint, remoteCa, validity);
      Map<String, String> data = new TreeMap<>(current);
      data.putAll(entry.secretFiles(mountPath));
      return Optional.of(new Edit(data, rewrite.get().verb() + " " + remote + " (" + endpoint + ")"
          + (rewrite.get().why().isEmpty() ? "" : ": " + rewrite.get().why())));
    }).ifPresent(steps::add);
    steps.addAll(hostAliasSteps(local, MeshNames.etcdHost(remote), address.hostAliasIp()));
    return steps;
  }

  /** What removes {@code remote} from {@code local}: its Secret entries and its host alias. */
  List<Step> disconnect(InstalledCluster local, String remote) {
    List<Step> steps = new ArrayList<>();
    secretStep(local, remote, current -> {
      Map<String, String> data = new TreeMap<>(current);
      ConnectionFiles.secretFileNames(remote).forEach(data::remove);
      return data.equals(current) ? Optional.empty() : Optional.of(new Edit(data, "remove " + remote));
    }).ifPresent(steps::add);
    steps.addAll(hostAliasSteps(local, MeshNames.etcdHost(remote), Optional.empty()));
    return steps;
  }

  /** The Secret's new data (decoded) and what changed, for the message. */
  private record Edit(Map<String, String> data, String what) {}

  private Optional<Step> secretStep(InstalledCluster local, String remote, Function<Map<String, String>, Optional<Edit>> change) {
    String object = "Secret " + local.namespace() + "/" + MeshNames.SECRET_NAME;
    Optional<Secret> existing = local.secret(MeshNames.SECRET_NAME);
    if (existing.isPresent()) {
      Map<String, String> labels = Objects.requireNonNullElse(existing.get().getMetadata().getLabels(), Map.of());
      if (HELM_MANAGED_BY.equals(labels.get("app.kubernetes.io/managed-by"))) {
        throw new CliFailure("context " + local.context() + ": " + object + " is rendered by the chart (value"
            + " clustermesh.config.enabled=true): a helm upgrade would undo connect; set clustermesh.config.enabled=false"
            + " to let connect manage it, or list " + remote + " in clustermesh.config.clusters");
      }
    }
    Map<String, String> current = new TreeMap<>();
    existing.map(Secret::getData).ifPresent(data -> data.forEach((k, v) -> current.put(k, InstalledCluster.decode(v))));
    Optional<Edit> edit = change.apply(current);
    if (edit.isEmpty()) {
      return Optional.empty();
    }
    Map<String, String> encoded = new TreeMap<>();
    edit.get().data().forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    String action = (existing.isEmpty() ? "create " : "update ") + object + ": " + edit.get().what();
    return Optional.of(new Step(local.label(), action, () -> {
      try {
        if (existing.isEmpty()) {
          local.client().secrets().inNamespace(local.namespace()).resource(new SecretBuilder()
                  .withNewMetadata().withName(MeshNames.SECRET_NAME).withNamespace(local.namespace())
                  .addToLabels("app.kubernetes.io/part-of", "meshwork").addToLabels("meshwork.dev/cluster", local.name())
                  .endMetadata()
                  .withType("Opaque").withData(encoded).build())
              .create();
        } else {
          // resourceVersion of what was read: a concurrent change makes this fail instead of being lost.
          Secret updated = new SecretBuilder(existing.get()).withData(encoded).build();
          local.client().secrets().inNamespace(local.namespace()).resource(updated).update();
        }
      } catch (KubernetesClientException e) {
        throw new CliFailure("context " + local.context() + ": cannot write " + object + ": " + e.getMessage(), e);
      }
    }));
  }

  /** Why an entry is (re)written: "add", "replace" or "renew", and the reason. */
  private record Rewrite(String verb, String why) {}

  /** Why the entry of {@code remote} must be (re)written, or empty when the existing one is right. */
  private Optional<Rewrite> rewrite(Map<String, String> current, String local, String remote, String endpoint, CertificateAuthority remoteCa) {
    if (!current.containsKey(remote)) {
      return Optional.of(new Rewrite("add", ""));
    }
    ConnectionFiles.RemoteEntry wanted = new ConnectionFiles.RemoteEntry(remote, endpoint, "", "", "");
    if (!wanted.config(mountPath).equals(current.get(remote))) {
      return Optional.of(new Rewrite("replace", "endpoint or mount path changed"));
    }
    String where = "Secret " + MeshNames.SECRET_NAME + " entry ";
    try {
      X509Certificate ca = InstalledCluster.certificate(where + ConnectionFiles.caFileName(remote),
          current.getOrDefault(ConnectionFiles.caFileName(remote), ""));
      if (!ca.equals(remoteCa.certificate())) {
        return Optional.of(new Rewrite("replace", "the CA of " + remote + " changed"));
      }
      X509Certificate cert = InstalledCluster.certificate(where + ConnectionFiles.certFileName(remote),
          current.getOrDefault(ConnectionFiles.certFileName(remote), ""));
      cert.verify(remoteCa.certificate().getPublicKey());
      if (!CertificateAuthority.clusterOf(cert).equals(Optional.of(local))) {
        return Optional.of(new Rewrite("replace", "client certificate of another cluster"));
      }
      var key = InstalledCluster.privateKey(where + ConnectionFiles.keyFileName(remote),
          current.getOrDefault(ConnectionFiles.keyFileName(remote), ""));
      if (!CaDirectory.matches(cert.getPublicKey(), key)) {
        return Optional.of(new Rewrite("replace", "key does not match the certificate"));
      }
      Instant notAfter = cert.getNotAfter().toInstant();
      Duration lifetime = Duration.between(cert.getNotBefore().toInstant(), notAfter);
      Duration margin = lifetime.dividedBy(3).compareTo(RENEW_BEFORE) < 0 ? lifetime.dividedBy(3) : RENEW_BEFORE;
      if (clock.instant().plus(margin).isAfter(notAfter)) {
        return Optional.of(new Rewrite("renew", "client certificate expires " + notAfter));
      }
      return Optional.empty();
    } catch (CliFailure | GeneralSecurityException e) {
      return Optional.of(new Rewrite("replace", e.getMessage()));
    }
  }

  private List<Step> hostAliasSteps(InstalledCluster local, String hostname, Optional<String> ip) {
    List<Step> steps = new ArrayList<>();
    String ns = local.namespace();
    DaemonSet agents = InstalledCluster.get(local.context(),
        () -> local.client().apps().daemonSets().inNamespace(ns).withName(InstalledCluster.AGENT_DAEMONSET).get(),
        "DaemonSet " + ns + "/" + InstalledCluster.AGENT_DAEMONSET);
    if (agents == null) {
      if (ip.isPresent()) {
        throw new CliFailure("context " + local.context() + ": DaemonSet " + ns + "/" + InstalledCluster.AGENT_DAEMONSET
            + " not found: its agents need the host alias " + hostname + " -> " + ip.get());
      }
    } else {
      aliasStep(local, "DaemonSet " + ns + "/" + InstalledCluster.AGENT_DAEMONSET, agents.getSpec().getTemplate().getSpec(), hostname, ip,
          aliases -> local.client().apps().daemonSets().inNamespace(ns).withName(InstalledCluster.AGENT_DAEMONSET)
              .edit(ds -> { ds.getSpec().getTemplate().getSpec().setHostAliases(aliases); return ds; }))
          .ifPresent(steps::add);
    }
    Deployment sync = InstalledCluster.get(local.context(),
        () -> local.client().apps().deployments().inNamespace(ns).withName(InstalledCluster.KVSTORE_SYNC_DEPLOYMENT).get(),
        "Deployment " + ns + "/" + InstalledCluster.KVSTORE_SYNC_DEPLOYMENT);
    if (sync != null) {
      aliasStep(local, "Deployment " + ns + "/" + InstalledCluster.KVSTORE_SYNC_DEPLOYMENT, sync.getSpec().getTemplate().getSpec(), hostname, ip,
          aliases -> local.client().apps().deployments().inNamespace(ns).withName(InstalledCluster.KVSTORE_SYNC_DEPLOYMENT)
              .edit(d -> { d.getSpec().getTemplate().getSpec().setHostAliases(aliases); return d; }))
          .ifPresent(steps::add);
    }
    return steps;
  }

  private Optional<Step> aliasStep(
      InstalledCluster local, String object, PodSpec spec, String hostname, Optional<String> ip,
      java.util.function.Consumer<List<HostAlias>> write) {
    List<HostAlias> current = Objects.requireNonNullElse(spec.getHostAliases(), List.of());
    List<HostAlias> wanted = hostAliases(current, hostname, ip);
    if (wanted.equals(current)) {
      return Optional.empty();
    }
    String what = ip.map(i -> "host alias " + hostname + " -> " + i).orElse("remove host alias " + hostname);
    return Optional.of(new Step(local.label(), "update " + object + ": " + what + " (its pods restart)", () -> {
      try {
        write.accept(wanted);
      } catch (KubernetesClientException e) {
        throw new CliFailure("context " + local.context() + ": cannot update " + object + ": " + e.getMessage(), e);
      }
    }));
  }

  /**
   * {@code current} with {@code hostname} mapped to {@code ip} only (or to nothing); other names
   * and the order of the entries are kept, so that a run without change leaves the list equal.
   */
  static List<HostAlias> hostAliases(List<HostAlias> current, String hostname, Optional<String> ip) {
    List<HostAlias> naming = current.stream().filter(a -> names(a).contains(hostname)).toList();
    boolean alreadyRight = ip.isEmpty()
        ? naming.isEmpty()
        : naming.size() == 1 && ip.get().equals(naming.getFirst().getIp())
            && java.util.Collections.frequency(names(naming.getFirst()), hostname) == 1;
    if (alreadyRight) {
      return current;
    }
    Map<String, List<String>> byIp = new LinkedHashMap<>();
    for (HostAlias alias : current) {
      List<String> names = new ArrayList<>(names(alias));
      names.remove(hostname);
      if (!names.isEmpty()) {
        byIp.computeIfAbsent(alias.getIp(), k -> new ArrayList<>()).addAll(names);
      }
    }
    ip.ifPresent(i -> byIp.computeIfAbsent(i, k -> new ArrayList<>()).add(hostname));
    List<HostAlias> result = new ArrayList<>();
    byIp.forEach((i, names) -> result.add(new HostAliasBuilder().withIp(i).withHostnames(names).build()));
    return result;
  }

  private static List<String> names(HostAlias alias) {
    return Objects.requireNonNullElse(alias.getHostnames(), List.of());
  }
}
