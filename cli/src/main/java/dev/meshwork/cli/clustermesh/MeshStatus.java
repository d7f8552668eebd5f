package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CliFailure;
import dev.meshwork.cli.output.Table;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.codec.Codec;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.Heartbeat;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HostAlias;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * `meshwork clustermesh status --context A --context B ...`: the mesh as each cluster's agents
 * would see it, checked from this machine. For every given cluster it reads the clustermesh
 * Secret its agents mount and the host aliases of their DaemonSet, then, per remote cluster in
 * that Secret, connects to the remote's etcd with exactly that config (endpoint, CA, client
 * certificate; the host alias applied as the agents' /etc/hosts would) and reads what an agent
 * needs before it calls the remote ready: the remote's cluster-config (name and id), a heartbeat
 * younger than the cluster's heartbeat threshold, and the synced canary of every kind.
 *
 * <p>What it cannot see: whether the nodes themselves reach the remote etcd (network paths from
 * this machine may differ), and the agents' own state. That view is the agent's `meshwork
 * clustermesh status` on a node (`kubectl exec ds/meshwork-agent -- meshwork clustermesh status`).
 */
public final class MeshStatus {

  static final Duration DEFAULT_HEARTBEAT_THRESHOLD = Duration.ofMinutes(3);
  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
  private static final Pattern SIMPLE_DURATION = Pattern.compile("^(\\d+)(ms|s|m|h)$");

  /** What one cluster sees of one remote cluster. */
  public record RemoteView(
      String cluster,
      String remote,
      String endpoint,
      boolean configured,
      boolean reachable,
      Optional<Integer> remoteId,
      Optional<Duration> heartbeatAge,
      int syncedKinds,
      boolean ready,
      String problem) {}

  private final Clock clock;

  MeshStatus(Clock clock) {
    this.clock = clock;
  }

  /**
   * Prints the table for the clusters of {@code contexts}; with {@code waitSeconds > 0}, polls every
   * second until every remote is ready. Returns 0 when all are ready.
   *
   * @throws CliFailure naming what is not ready
   */
  public static int print(PrintWriter out, List<String> contexts, Path kubeconfig, String namespace, int waitSeconds, Clock clock) {
    KubeContexts kube = new KubeContexts(kubeconfig);
    List<InstalledCluster> clusters = new ArrayList<>();
    try {
      for (String context : contexts) {
        clusters.add(InstalledCluster.read(kube.client(context), context, namespace));
      }
      Instant deadline = clock.instant().plusSeconds(Math.max(0, waitSeconds));
      while (true) {
        List<RemoteView> views = new MeshStatus(clock).check(clusters);
        List<RemoteView> notReady = views.stream().filter(v -> !v.ready()).toList();
        if ((notReady.isEmpty() && !views.isEmpty()) || !clock.instant().isBefore(deadline)) {
          render(out, views);
          if (views.isEmpty()) {
            throw new CliFailure("clustermesh not ready: no remote cluster is configured in "
                + String.join(", ", clusters.stream().map(InstalledCluster::label).toList()));
          }
          if (!notReady.isEmpty()) {
            throw new CliFailure("clustermesh not ready" + (waitSeconds > 0 ? " after " + waitSeconds + " s" : "") + ": "
                + String.join(", ", notReady.stream().map(v -> v.cluster() + " -> " + v.remote() + " (" + v.problem() + ")").toList()));
          }
          return 0;
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new CliFailure("interrupted");
        }
      }
    } finally {
      clusters.forEach(c -> c.client().close());
    }
  }

  static void render(PrintWriter out, List<RemoteView> views) {
    Table table = Table.withHeader("CLUSTER", "REMOTE", "ENDPOINT", "REACHABLE", "REMOTE ID", "HEARTBEAT", "SYNCED", "READY", "PROBLEM");
    for (RemoteView v : views) {
      table.row(v.cluster(), v.remote(), v.endpoint(), !v.configured() ? "-" : v.reachable() ? "yes" : "no",
          v.remoteId().map(String::valueOf).orElse("-"),
          v.heartbeatAge().map(a -> a.toSeconds() + "s ago").orElse("-"),
          v.configured() ? v.syncedKinds() + "/" + Kind.values().length : "-",
          v.ready() ? "yes" : "no", v.problem());
    }
    out.print(table.render());
    out.flush();
  }

  /** Every given cluster's view of every remote in its Secret, and of every other given cluster. */
  List<RemoteView> check(List<InstalledCluster> clusters) {
    Map<String, InstalledCluster> byName = new LinkedHashMap<>();
    clusters.forEach(c -> byName.put(c.name(), c));
    List<RemoteView> views = new ArrayList<>();
    for (InstalledCluster cluster : clusters) {
      Map<String, String> secret = new TreeMap<>();
      cluster.secret(MeshNames.SECRET_NAME).map(s -> s.getData()).ifPresent(d -> d.forEach((k, v) -> secret.put(k, InstalledCluster.decode(v))));
      Map<String, String> aliases = hostAliases(cluster);
      Duration threshold = heartbeatThreshold(cluster);
      for (String remote : secret.keySet().stream().filter(ClusterName::isValid).toList()) {
        views.add(probe(cluster, remote, secret, aliases, threshold, Optional.ofNullable(byName.get(remote))));
      }
      for (InstalledCluster other : clusters) {
        if (other != cluster && !secret.containsKey(other.name())) {
          views.add(new RemoteView(cluster.name(), other.name(), "-", false, false, Optional.empty(), Optional.empty(), 0, false,
              "not configured: meshwork clustermesh connect --context " + cluster.context() + " --destination-context " + other.context()));
        }
      }
    }
    views.sort(Comparator.comparing(RemoteView::cluster).thenComparing(RemoteView::remote));
    return views;
  }

  private RemoteView probe(
      InstalledCluster cluster, String remote, Map<String, String> secret, Map<String, String> aliases, Duration threshold,
      Optional<InstalledCluster> known) {
    Path dir = null;
    String endpoint = "-";
    try {
      dir = Files.createTempDirectory("meshwork-status", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      RemoteClusterConfig config = materialize(dir, remote, secret);
      endpoint = config.endpoints().getFirst().toString();
      try (Client client = client(config, aliases)) {
        Optional<ClusterConfig> clusterConfig = read(client, KeyLayout.clusterConfigKey(remote), Codecs.CLUSTER_CONFIG);
        Optional<Heartbeat> heartbeat = read(client, KeyLayout.heartbeatKey(remote), Codecs.HEARTBEAT);
        int synced = 0;
        for (Kind kind : Kind.values()) {
          if (exists(client, KeyLayout.state().syncedKey(remote, kind))) {
            synced++;
          }
        }
        Optional<Duration> age = heartbeat.map(h -> Duration.between(Instant.ofEpochMilli(h.getTimestampMillis()), clock.instant()));
        Optional<Integer> id = clusterConfig.map(c -> c.getId());
        List<String> problems = new ArrayList<>();
        if (clusterConfig.isEmpty()) {
          problems.add("no cluster-config: the remote operator has not started");
        } else if (!clusterConfig.get().getName().equals(remote)) {
          problems.add("its etcd belongs to cluster " + clusterConfig.get().getName());
        } else if (known.isPresent() && known.get().id() != clusterConfig.get().getId()) {
          problems.add("cluster id " + clusterConfig.get().getId() + " in etcd, " + known.get().id() + " in its chart");
        }
        if (age.isEmpty()) {
          problems.add("no heartbeat");
        } else if (age.get().compareTo(threshold) > 0) {
          problems.add("heartbeat older than " + threshold.toSeconds() + "s");
        }
        if (synced < Kind.values().length) {
          problems.add("waiting for synced canaries (" + synced + "/" + Kind.values().length + ")");
        }
        return new RemoteView(cluster.name(), remote, endpoint, true, true, id, age, synced, problems.isEmpty(), String.join("; ", problems));
      }
    } catch (IOException | RuntimeException e) {
      return new RemoteView(cluster.name(), remote, endpoint, true, false, Optional.empty(), Optional.empty(), 0, false, message(e));
    } finally {
      deleteQuietly(dir);
    }
  }

  /**
   * The Secret's entry for {@code remote} as the agent sees its mounted directory: the config,
   * with its file paths pointing into {@code dir}, and the files it names.
   */
  static RemoteClusterConfig materialize(Path dir, String remote, Map<String, String> secret) throws IOException {
    Object parsed = new Yaml(new SafeConstructor(new LoaderOptions())).load(secret.get(remote));
    if (!(parsed instanceof Map<?, ?> map)) {
      throw new CliFailure("entry " + remote + " of Secret " + MeshNames.SECRET_NAME + " is not a kvstore config");
    }
    Map<String, Object> config = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : map.entrySet()) {
      String key = String.valueOf(e.getKey());
      Object value = e.getValue();
      if (key.endsWith("-file") && value != null) {
        String file = Path.of(String.valueOf(value)).getFileName().toString();
        String content = secret.get(file);
        if (content == null) {
          throw new CliFailure(key + " " + value + " of entry " + remote + " is not in Secret " + MeshNames.SECRET_NAME);
        }
        Files.writeString(dir.resolve(file), content);
        value = dir.resolve(file).toString();
      }
      config.put(key, value);
    }
    Path file = dir.resolve(remote);
    Files.writeString(file, new Yaml().dump(config));
    return RemoteClusterConfig.load(file);
  }

  /** A client for {@code config}; a host name with a host alias is dialed at the alias's IP, TLS still checks the name. */
  static Client client(RemoteClusterConfig config, Map<String, String> aliases) {
    List<URI> endpoints = new ArrayList<>();
    String authority = config.endpoints().getFirst().getHost();
    for (URI endpoint : config.endpoints()) {
      String ip = aliases.get(endpoint.getHost());
      try {
        endpoints.add(ip == null ? endpoint
            : new URI(endpoint.getScheme(), null, ip.contains(":") ? "[" + ip + "]" : ip, endpoint.getPort(), null, null, null));
      } catch (URISyntaxException e) {
        throw new CliFailure("host alias " + ip + " of " + endpoint.getHost() + " is not an address", e);
      }
    }
    var builder = Client.builder()
        .endpoints(endpoints.toArray(URI[]::new))
        .connectTimeout(CALL_TIMEOUT)
        .waitForReady(false)
        .retryMaxDuration(CALL_TIMEOUT);
    config.tls().ifPresent(tls -> builder.sslContext(EtcdClients.sslContext(tls, config.source())).authority(authority));
    return builder.build();
  }

  private static <T extends com.google.protobuf.Message> Optional<T> read(Client client, String key, Codec<T> codec) {
    List<KeyValue> kvs = get(client, key);
    if (kvs.isEmpty()) {
      return Optional.empty();
    }
    return switch (codec.decode(key, kvs.getFirst().getValue().getBytes())) {
      case Decoded.Value<T> value -> Optional.of(value.value());
      case Decoded.Failure<T> failure -> throw new CliFailure(failure.reason());
    };
  }

  private static boolean exists(Client client, String key) {
    return !get(client, key).isEmpty();
  }

  private static List<KeyValue> get(Client client, String key) {
    try {
      return client.getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8))
          .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).getKvs();
    } catch (ExecutionException e) {
      throw new CliFailure("reading " + key + ": " + rootMessage(e), e);
    } catch (TimeoutException e) {
      throw new CliFailure("reading " + key + ": no answer within " + CALL_TIMEOUT.toSeconds() + " s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliFailure("interrupted", e);
    }
  }

  private static Map<String, String> hostAliases(InstalledCluster cluster) {
    DaemonSet agents = InstalledCluster.get(cluster.context(),
        () -> cluster.client().apps().daemonSets().inNamespace(cluster.namespace()).withName(InstalledCluster.AGENT_DAEMONSET).get(),
        "DaemonSet " + cluster.namespace() + "/" + InstalledCluster.AGENT_DAEMONSET);
    Map<String, String> aliases = new HashMap<>();
    if (agents != null && agents.getSpec().getTemplate().getSpec().getHostAliases() != null) {
      for (HostAlias alias : agents.getSpec().getTemplate().getSpec().getHostAliases()) {
        if (alias.getHostnames() != null) {
          alias.getHostnames().forEach(h -> aliases.putIfAbsent(h, alias.getIp()));
        }
      }
    }
    return aliases;
  }

  // The agents' own threshold (chart value agent.heartbeatThreshold), else the default.
  private static Duration heartbeatThreshold(InstalledCluster cluster) {
    ConfigMap config = InstalledCluster.get(cluster.context(),
        () -> cluster.client().configMaps().inNamespace(cluster.namespace()).withName(InstalledCluster.AGENT_CONFIG).get(),
        "ConfigMap " + cluster.namespace() + "/" + InstalledCluster.AGENT_CONFIG);
    String text = config == null || config.getData() == null ? null : config.getData().get("MESHWORK_HEARTBEAT_THRESHOLD");
    Matcher m = text == null ? null : SIMPLE_DURATION.matcher(text.strip());
    if (m == null || !m.matches()) {
      return DEFAULT_HEARTBEAT_THRESHOLD;
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ms" -> Duration.ofMillis(n);
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      default -> Duration.ofHours(n);
    };
  }

  private static String message(Throwable e) {
    return e instanceof CliFailure ? e.getMessage() : rootMessage(e);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName() + ": " + root.getMessage();
  }

  private static void deleteQuietly(Path dir) {
    if (dir == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      // a temp directory left behind holds only what the Secret holds; nothing to do
    }
  }
}
