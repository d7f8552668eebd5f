package dev.meshwork.cli.inspect;

import dev.meshwork.cli.output.Table;
import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.InspectionServiceGrpc.InspectionServiceBlockingStub;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.RemoteClusterStatus;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Comparator;
import picocli.CommandLine.Command;

/** `meshwork clustermesh status`: the agent's connection to every remote cluster. */
@Command(name = "status", description = "Show the agent's connection to every remote cluster.")
public final class ClusterMeshStatusCommand extends ListCommand<ClusterMeshStatus> {

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
                table.row(append(common, remote.getMirrorLagMillis() + " ms", remote.getStatus()));
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
