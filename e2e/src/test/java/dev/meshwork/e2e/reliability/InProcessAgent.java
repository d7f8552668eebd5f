package dev.meshwork.e2e.reliability;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.metrics.Metrics;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * An agent's control plane in the test JVM: the production tables, {@link DatapathReconciler}
 * and {@link ClusterMesh}, wired as {@code AgentModule} wires them, on a
 * {@link ChangeLogDatapath}. Left out, because the suite's cases do not touch them: the
 * Kubernetes watchers (policy, local services), the API server and the metrics endpoint.
 *
 * <p>Hand-wired rather than through Dagger: e2e has no Dagger processor for a test component,
 * and the production component builds its own datapath, whose changes the suite must log.
 */
final class InProcessAgent implements AutoCloseable {
  final ChangeLogDatapath datapath = new ChangeLogDatapath();
  final Metrics metrics;
  final ClusterMesh mesh;
  private final DatapathReconciler reconciler;

  InProcessAgent(String cluster, int id, String node, Path localConfig, Path configDir, ClusterMesh.Source source)
      throws Exception {
    metrics = new Metrics(Map.of("cluster", cluster));
    NodeTable nodes = new NodeTable(cluster);
    ServiceTable services = new ServiceTable(cluster);
    IpCacheTable ipcache = new IpCacheTable(cluster);
    IdentityTable identities = new IdentityTable();
    reconciler = new DatapathReconciler(datapath, nodes, ipcache, services, node, metrics.registry());
    mesh = new ClusterMesh(
        new ClusterMesh.Settings(cluster, ClusterId.of(id), Optional.of(localConfig), Optional.of(configDir),
            Optional.empty(), Duration.ofMinutes(3), Duration.ofMillis(100), source, false),
        nodes, services, identities, ipcache, reconciler, metrics.registry(), Clock.systemUTC());
    reconciler.start();
    mesh.start();
  }

  /** {@code meshwork_agent_clustermesh_rejected_keys_total{cluster}}. */
  double rejectedKeys(String cluster) {
    var counter = metrics.registry().find("meshwork_agent_clustermesh_rejected_keys").tag("cluster", cluster).functionCounter();
    return counter == null ? 0 : counter.count();
  }

  /** Full lists of the prefixes of {@code cluster}'s kinds ({@code meshwork.kvstore.watch.relists}), all stores summed. */
  double relists(String cluster) {
    return metrics.registry().find("meshwork.kvstore.watch.relists").counters().stream()
        .filter(c -> c.getId().getTag("store") != null && c.getId().getTag("store").endsWith(" of " + cluster))
        .mapToDouble(c -> c.count()).sum();
  }

  @Override
  public void close() {
    mesh.stop();
    reconciler.stop();
    metrics.close();
  }
}
