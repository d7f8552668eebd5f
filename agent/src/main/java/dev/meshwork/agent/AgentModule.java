package dev.meshwork.agent;

import dev.meshwork.agent.api.AgentApiServer;
import dev.meshwork.agent.api.InspectionApi;
import dev.meshwork.agent.api.PolicyApi;
import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.datapath.ConntrackCollector;
import dev.meshwork.agent.endpoint.NodeEndpoints;
import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.ipcache.IpCacheTable;
import dev.meshwork.agent.node.NodeTable;
import dev.meshwork.agent.policy.PolicyConfig;
import dev.meshwork.agent.policy.PolicyEngine;
import dev.meshwork.agent.policy.PolicyWatcher;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.agent.service.kubernetes.LocalServiceWatcher;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.lifecycle.StopHook;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.PrometheusEndpoint;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.bpf.BpfDatapath;
import dagger.Module;
import dagger.Provides;
import io.grpc.BindableService;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.inject.Provider;
import javax.inject.Singleton;

/**
 * The agent's control plane: the merged tables, the reconciler, the cluster mesh and the API,
 * registered with the lifecycle in dependency order. The {@link Datapath} comes from another
 * module, so tests can swap it.
 */
@Module
public final class AgentModule {
  private AgentModule() {}

  @Provides
  @Singleton
  static Metrics metrics(AgentConfig config) {
    return new Metrics(Map.of("cluster", config.clusterName().value())).withJvmMetrics();
  }

  @Provides
  @Singleton
  static NodeTable nodes(AgentConfig config) {
    return new NodeTable(config.clusterName().value());
  }

  @Provides
  @Singleton
  static ServiceTable services(AgentConfig config) {
    return new ServiceTable(config.clusterName().value());
  }

  @Provides
  @Singleton
  static IpCacheTable ipcache(AgentConfig config) {
    return new IpCacheTable(config.clusterName().value());
  }

  @Provides
  @Singleton
  static IdentityTable identities() {
    return new IdentityTable();
  }

  @Provides
  @Singleton
  static PolicyEngine policyEngine(AgentConfig config, Metrics metrics) {
    return new PolicyEngine(
        new PolicyConfig(config.clusterName().value(), config.policyDefaultLocalCluster()), metrics.registry());
  }

  /** Watches the local cluster's policies; absent without a Kubernetes API. */
  @Provides
  @Singleton
  static Optional<PolicyWatcher> policyWatcher(
      AgentConfig config,
      Optional<KubernetesClient> kubernetes, PolicyEngine engine, Provider<DatapathReconciler> reconciler) {
    // A provider: the reconciler in turn waits for this watcher to have listed.
    // The client may exist for local services or endpoints alone: policy needs its own setting.
    return kubernetes
        .filter(client -> config.policyEnforcement() != AgentConfig.PolicyEnforcement.DISABLED)
        .map(client -> new PolicyWatcher(client, engine, () -> reconciler.get().kick()));
  }

  @Provides
  @Singleton
  static DatapathReconciler reconciler(
      Datapath datapath,
      NodeTable nodes,
      IpCacheTable ipcache,
      ServiceTable services,
      IdentityTable identities,
      PolicyEngine engine,
      Optional<PolicyWatcher> policyWatcher,
      AgentConfig config,
      Metrics metrics) {
    DatapathReconciler reconciler =
        new DatapathReconciler(datapath, nodes, ipcache, services, config.nodeName(), metrics.registry());
    if (policyWatcher.isPresent()) {
      reconciler.attachPolicy(engine, identities::labels, policyWatcher.get()::hasSynced);
      identities.listener(
          new IdentityTable.Listener() {
            @Override
            public void upserted(int id, List<String> labels) {
              engine.upsertIdentity(id, labels);
              reconciler.identityChanged(id, labels);
            }

            @Override
            public void deleted(int id) {
              engine.deleteIdentity(id);
              reconciler.kick();
            }
          });
    }
    return reconciler;
  }


  @Provides
  @Singleton
  static ClusterMesh clusterMesh(
      AgentConfig config,
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      IpCacheTable ipcache,
      DatapathReconciler reconciler,
      Optional<LocalServiceWatcher> localServices,
      Metrics metrics) {
    ClusterMesh mesh = new ClusterMesh(
        new ClusterMesh.Settings(
            config.clusterName().value(),
            config.clusterId(),
            config.kvstoreConfig(),
            java.util.Optional.of(config.clustermeshConfigDir()),
            config.clustermeshCacheTtl(),
            config.heartbeatThreshold(),
            config.clustermeshPollInterval(),
            config.clustermeshSource() == AgentConfig.ClusterMeshSource.CACHE
                ? ClusterMesh.Source.CACHE
                : ClusterMesh.Source.DIRECT,
            localServices.isPresent()),
        nodes,
        services,
        identities,
        ipcache,
        reconciler,
        metrics.registry(),
        Clock.systemUTC());
    localServices.ifPresent(watcher -> mesh.gateRestore(watcher::hasSynced));
    return mesh;
  }

  @Provides
  @Singleton
  static InspectionApi inspection(
      NodeTable nodes,
      ServiceTable services,
      IdentityTable identities,
      ClusterMesh mesh,
      DatapathReconciler reconciler,
      Datapath datapath,
      AgentConfig config,
      Optional<NodeEndpoints> endpoints) {
    return new InspectionApi(
        nodes, services, identities, mesh, reconciler, datapath, config.nodeName(), endpoints.map(e -> e::describe));
  }

  @Provides
  @Singleton
  static AgentApiServer apiServer(
      AgentConfig config,
      InspectionApi inspection,
      PolicyEngine engine,
      Optional<PolicyWatcher> policyWatcher,
      Optional<NodeEndpoints> endpoints) {
    List<BindableService> services = new ArrayList<>(List.of(inspection, new PolicyApi(engine, policyWatcher.isPresent())));
    endpoints.ifPresent(e -> services.add(e.api())); // blocking calls: served on gRPC's default executor
    return new AgentApiServer(config.apiSocket(), services);
  }

  @Provides
  @Singleton
  static Lifecycle lifecycle(
      AgentConfig config,
      Metrics metrics,
      Datapath datapath,
      DatapathReconciler reconciler,
      ClusterMesh mesh,
      Optional<PolicyWatcher> policyWatcher,
      Optional<LocalServiceWatcher> localServices,
      Optional<NodeEndpoints> endpoints,
      AgentApiServer api) {
    Lifecycle lifecycle = new Lifecycle();
    AtomicReference<PrometheusEndpoint> endpoint = new AtomicReference<>();
    lifecycle.register(
        "metrics-endpoint",
        () -> endpoint.set(metrics.start(new InetSocketAddress(config.metricsPort()))),
        () -> {
          PrometheusEndpoint running = endpoint.getAndSet(null);
          if (running != null) running.close();
        });
    lifecycle.onStop("datapath", datapath::close);
    if (datapath instanceof BpfDatapath bpf) {
      // Only the kernel datapath keeps connection state that must expire.
      AgentConfig.BpfSettings settings = config.bpf();
      ConntrackCollector collector =
          new ConntrackCollector(
              bpf::collectConntrack,
              settings.conntrackGcInterval(),
              settings.conntrackTcpIdle(),
              settings.conntrackOtherIdle(),
              metrics.registry());
      lifecycle.register("conntrack-gc", collector::start, collector::stop);
    }
    lifecycle.register("reconciler", reconciler::start, reconciler::stop);
    policyWatcher.ifPresent(
        watcher -> lifecycle.register("policy-watcher", watcher::start, watcher::close));
    localServices.ifPresent(
        watcher -> lifecycle.register("local-services", watcher::start, watcher::close));
    lifecycle.register("clustermesh", mesh::start, mesh::stop);
    // Waits for the pod CIDR, restores the endpoints on disk: before the API serves the CNI plugin.
    endpoints.ifPresent(e -> lifecycle.register("endpoints", e::start, StopHook.none()));
    lifecycle.register("api", api::start, api::stop);
    return lifecycle;
  }
}
