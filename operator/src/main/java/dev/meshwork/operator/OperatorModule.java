package dev.meshwork.operator;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.PrometheusEndpoint;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.ReloadingEtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.heartbeat.HeartbeatWriter;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.operator.cluster.ClusterConfigPublisher;
import dev.meshwork.operator.events.KubernetesEventRecorder;
import dev.meshwork.operator.identity.EtcdIdentityAllocator;
import dev.meshwork.operator.leader.LeaderElection;
import dev.meshwork.operator.state.SyncStoreClusterStateWriter;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import javax.annotation.Nullable;
import javax.inject.Singleton;

/** Provides the operator's parts from its config; third-party clients are built here. */
@Module
final class OperatorModule {

  private OperatorModule() {}

  @Provides
  @Singleton
  static Metrics metrics(OperatorConfig config) {
    return new Metrics(Map.of("cluster", config.cluster().name())).withJvmMetrics();
  }

  @Provides
  static MeterRegistry meterRegistry(Metrics metrics) {
    return metrics.registry();
  }

  @Provides
  static Clock clock() {
    return Clock.systemUTC();
  }

  @Provides
  static KeyLayout keyLayout() {
    return KeyLayout.state();
  }

  @Provides
  @Singleton
  static EtcdConnection etcd(OperatorConfig config) {
    return ReloadingEtcdConnection.open(RemoteClusterConfig.load(config.kvstoreConfig()));
  }

  @Provides
  @Singleton
  static SyncStoreClusterStateWriter writer(
      OperatorConfig config, EtcdConnection etcd, KeyLayout layout, MeterRegistry registry) {
    return new SyncStoreClusterStateWriter(
        etcd,
        layout,
        config.cluster().name(),
        new SyncStoreClusterStateWriter.Options(
            config.kvstoreWritesPerSecond(),
            config.kvstoreLeaseTtl(),
            config.kvstoreDataLossCheckInterval()),
        registry);
  }

  @Provides
  @Singleton
  static ActiveOperator activeOperator(
      OperatorConfig config,
      KubernetesClient kubernetes,
      SyncStoreClusterStateWriter writer,
      EtcdConnection etcd,
      KeyLayout layout,
      MeterRegistry registry,
      Clock clock) {
    return new ActiveOperator(
        config,
        kubernetes,
        writer,
        new EtcdIdentityAllocator(etcd, layout, config.cluster()),
        new KubernetesEventRecorder(kubernetes),
        registry,
        clock);
  }

  @Provides
  @Singleton
  static LeaderDuties duties(
      OperatorConfig config,
      EtcdConnection etcd,
      SyncStoreClusterStateWriter writer,
      ActiveOperator active,
      Clock clock) {
    return new LeaderDuties(
        writer,
        new ClusterConfigPublisher(etcd, config.cluster(), config.kvstoreDataLossCheckInterval()),
        new HeartbeatWriter(
            etcd,
            config.cluster().name(),
            "meshwork-operator/" + config.podName(),
            config.heartbeatInterval(),
            clock),
        active);
  }

  @Provides
  @Singleton
  @Nullable
  static LeaderElection leaderElection(
      OperatorConfig config,
      KubernetesClient kubernetes,
      LeaderDuties duties,
      LifecycleHolder holder) {
    if (!config.leaderElection()) {
      return null;
    }
    return new LeaderElection(
        kubernetes,
        config.leaderElectionNamespace(),
        config.leaderElectionLeaseName(),
        config.podName(),
        new LeaderElection.Timing(
            config.leaderElectionLeaseDuration(),
            config.leaderElectionRenewDeadline(),
            config.leaderElectionRetryPeriod()),
        () -> {
          try {
            duties.start();
          } catch (RuntimeException e) {
            holder.lifecycle().stopOnFatal(e);
          }
        },
        () -> {
          // Stop writing first: another replica is about to (or already does).
          duties.stop();
          holder.lifecycle().stopOnFatal(new IllegalStateException("lost the leader election Lease"));
        });
  }

  /** Lets leader callbacks reach the process lifecycle that owns the election. */
  @Singleton
  static final class LifecycleHolder {
    private final AtomicReference<Lifecycle> lifecycle = new AtomicReference<>();

    @javax.inject.Inject
    LifecycleHolder() {}

    Lifecycle lifecycle() {
      return lifecycle.get();
    }
  }

  @Provides
  @Singleton
  static Lifecycle lifecycle(
      OperatorConfig config,
      Metrics metrics,
      EtcdConnection etcd,
      KubernetesClient kubernetes,
      LeaderDuties duties,
      @Nullable LeaderElection election,
      LifecycleHolder holder) {
    Lifecycle lifecycle = new Lifecycle();
    holder.lifecycle.set(lifecycle);
    lifecycle.onStop("kubernetes-client", kubernetes::close);
    lifecycle.onStop("etcd-connection", etcd::close);
    AtomicReference<PrometheusEndpoint> endpoint = new AtomicReference<>();
    lifecycle.register(
        "metrics-endpoint",
        () -> {
          if (config.metricsPort() > 0) {
            endpoint.set(metrics.start(new InetSocketAddress(config.metricsPort())));
          }
        },
        () -> {
          if (endpoint.get() != null) {
            endpoint.get().close();
          }
        });
    if (election == null) {
      lifecycle.register("leader-duties", duties::start, duties::stop);
    } else {
      lifecycle.register(
          "leader-election",
          election::start,
          () -> {
            duties.stop();
            election.stop();
          });
    }
    return lifecycle;
  }
}
