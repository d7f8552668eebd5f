package dev.meshwork.cli.inspect;

import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import dev.meshwork.cli.CliFailure;
import dev.meshwork.cli.agent.AgentUnreachableException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `meshwork clustermesh status`: the agent's connection to every remote cluster; with --wait, until
 * every remote is ready (for scripts that connect clusters and then go on).
 */
@Command(name = "status", description = "Show the agent's connection to every remote cluster.")
public final class ClusterMeshStatusCommand extends ListCommand<ClusterMeshStatus> {

  private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

  @Option(
      names = "--wait",
      description = "Wait until the agent answers and every remote cluster is ready; exit 1 after --wait-timeout.")
  private boolean waitForReady;

  @Option(
      names = "--wait-timeout",
      paramLabel = "SECONDS",
      defaultValue = "120",
      description = "How long --wait waits, in seconds (default: ${DEFAULT-VALUE}).")
  private int waitTimeoutSeconds;

  // Across clusters through kubeconfig contexts (dev.meshwork.cli.clustermesh.MeshStatus), instead of the local agent.
  @Option(
      names = "--context",
      paramLabel = "CONTEXT",
      description = {
        "Check the mesh across clusters instead of asking the local agent: give every cluster's kubeconfig",
        "context (repeatable); each one's clustermesh Secret is used to reach the others' etcds."
      })
  private java.util.List<String> contexts = new java.util.ArrayList<>();

  @Option(names = "--kubeconfig", paramLabel = "FILE", description = "With --context: kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).")
  private java.nio.file.Path kubeconfig;

  @Option(
      names = "--namespace",
      paramLabel = "NS",
      defaultValue = "kube-system",
      description = "With --context: namespace of the meshwork chart (default: ${DEFAULT-VALUE}).")
  private String namespace;

  private final Clock clock;

  public ClusterMeshStatusCommand() {
    this(Clock.systemUTC());
  }

  ClusterMeshStatusCommand(Clock clock) {
    this.clock = clock;
  }

  @Override
  public Integer call() {
    if (!contexts.isEmpty()) {
      CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
      if (parsed.hasMatchedOption("-o") || parsed.hasMatchedOption("--cluster")) {
        throw new CommandLine.ParameterException(spec.commandLine(),
            "-o and --cluster select the local agent's answer; with --context the status is a table of every cluster");
      }
      return dev.meshwork.cli.clustermesh.MeshStatus.print(
          spec.commandLine().getOut(), contexts, kubeconfig, namespace, waitForReady ? waitTimeoutSeconds : 0, clock);
    }
    if (!waitForReady) {
      return super.call();
    }
    if (waitTimeoutSeconds <= 0) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid value for option '--wait-timeout': " + waitTimeoutSeconds + " (must be at least 1 second)");
    }
    Instant deadline = clock.instant().plusSeconds(waitTimeoutSeconds);
    while (true) {
      String notReady;
      try {
        ClusterMeshStatus status = query();
        if (allReady(status)) {
          print(status);
          return 0;
        }
        notReady = "not ready: " + String.join(", ", status.getRemotesList().stream()
            .filter(r -> !r.getReady())
            .map(r -> r.getName() + (r.getStatus().isEmpty() ? "" : " (" + r.getStatus() + ")"))
            .toList());
        if (status.getRemotesCount() == 0) {
          notReady = "the agent has no remote cluster configured";
        }
      } catch (AgentUnreachableException e) {
        notReady = e.getMessage();
      }
      if (!clock.instant().isBefore(deadline)) {
        throw new CliFailure("clustermesh not ready after " + waitTimeoutSeconds + " s: " + notReady);
      }
      try {
        Thread.sleep(POLL_INTERVAL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliFailure("interrupted while waiting for the clustermesh", e);
      }
    }
  }

  // A mesh with no remote is not "ready": waiting for it is waiting for the config to arrive.
  private static boolean allReady(ClusterMeshStatus status) {
    return status.getRemotesCount() > 0 && status.getRemotesList().stream().allMatch(RemoteClusterStatus::getReady);
  }

  @Override
  protected String callName() {
    return "GetClusterMeshStatus";
  }

  @Override
  protected ClusterMeshStatus fetch(InspectionServiceBlockingStub agent, ListRequest request) {
    return agent.getClusterMeshStatus(request);
  }

  @Override
  protected String table(ClusterMeshStatus status) {
    boolean cache = "cache".equals(status.getSource());
    long ready = status.getRemotesList().stream().filter(RemoteClusterStatus::getReady).count();
    StringBuilder out = new StringBuilder();
    out.append("Local cluster:   ").append(status.getLocalCluster())
        .append(" (id ").append(status.getLocalClusterId()).append(")\n");
    out.append("Remote state:    ").append(describeSource(status.getSource())).append('\n');
    out.append("Remote clusters: ").append(ready).append('/').append(status.getRemotesCount()).append(" ready\n");
    if (status.getRemotesCount() == 0) {
      return out.toString();
    }
    Table table =
        cache
            ? Table.withHeader("CLUSTER", "ID", "CONNECTED", "READY", "NODES", "ENDPOINTS", "IDENTITIES", "SERVICES",
                "RECONNECTIONS", "LAST FAILURE", "MIRROR LAG", "STATUS")
            : Table.withHeader("CLUSTER", "ID", "CONNECTED", "READY", "NODES", "ENDPOINTS", "IDENTITIES", "SERVICES",
                "RECONNECTIONS", "LAST FAILURE", "STATUS");
    status.getRemotesList().stream()
        .sorted(Comparator.comparing(RemoteClusterStatus::getName))
        .forEach(
            remote -> {
              Object[] common = {
                remote.getName(),
                remote.getId() == 0 ? "-" : remote.getId(),
                yesNo(remote.getConnected()),
                yesNo(remote.getReady()),
                remote.getNodes(),
                remote.getEndpoints(),
                remote.getIdentities(),
                remote.getServices(),
                remote.getReconnections(),
                lastFailure(remote)
              };
              if (cache) {
                table.row(append(common, mirrorLag(remote), remote.getStatus()));
              } else {
                table.row(append(common, remote.getStatus()));
              }
            });
    return out.append('\n').append(table.render()).toString();
  }

  private static String describeSource(String source) {
    return switch (source) {
      case "direct" -> "direct (each remote cluster's etcd)";
      case "cache" -> "cache (kvstore-sync mirror in the local etcd)";
      case "" -> "unknown";
      default -> source;
    };
  }

  /** "-" until the agent has measured it (a heartbeat of the remote must pass through the mirror). */
  private static String mirrorLag(RemoteClusterStatus remote) {
    return remote.getMirrorLagKnown() || remote.getMirrorLagMillis() > 0 ? remote.getMirrorLagMillis() + " ms" : "-";
  }

  private static String yesNo(boolean value) {
    return value ? "yes" : "no";
  }

  private static String lastFailure(RemoteClusterStatus remote) {
    if (remote.getLastFailure().isEmpty()) {
      return "never";
    }
    String when =
        remote.getLastFailureMillis() > 0
            ? Instant.ofEpochMilli(remote.getLastFailureMillis()).truncatedTo(ChronoUnit.SECONDS) + " "
            : "";
    return when + remote.getLastFailure();
  }

  private static Object[] append(Object[] head, Object... tail) {
    Object[] all = new Object[head.length + tail.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(tail, 0, all, head.length, tail.length);
    return all;
  }
}
