package dev.meshwork.kvstoresync;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.MetricsServer;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.ReloadingEtcdConnection;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstoresync.mirror.ClusterMeshMirror;
import dev.meshwork.kvstoresync.mirror.MirrorSettings;
import jakarta.inject.Singleton;
import java.net.InetSocketAddress;
import java.util.Map;

/** Provides the process-wide pieces of kvstore-sync and registers them with the lifecycle in start order. */
@Module
final class KvstoreSyncModule {
  private KvstoreSyncModule() {}

  @Provides
  @Singleton
  static Metrics metrics(KvstoreSyncConfig config) {
    return new Metrics(Map.of("cluster", config.clusterName().value())).withJvmMetrics();
  }

  @Provides
  @Singleton
  static MetricsServer metricsServer(KvstoreSyncConfig config, Metrics metrics) {
    return new MetricsServer(metrics, new InetSocketAddress(config.metricsPort()));
  }

  /** The local etcd; its file has the clustermesh format (endpoints and TLS files). */
  @Provides
  @Singleton
  static LocalEtcd localEtcd(KvstoreSyncConfig config) {
    return new LocalEtcd(config);
  }

  @Provides
  @Singleton
  static ClusterMeshMirror mirror(KvstoreSyncConfig config, LocalEtcd local, Metrics metrics) {
    return new ClusterMeshMirror(config.clustermeshConfigDir(), local,
        MirrorSettings.defaults(config.clusterName(), config.clusterId(), config.drainGrace(), metrics.registry()));
  }

  @Provides
  @Singleton
  static Lifecycle lifecycle(MetricsServer metricsServer, LocalEtcd local, ClusterMeshMirror mirror) {
    Lifecycle lifecycle = new Lifecycle();
    lifecycle.register("metrics-endpoint", metricsServer::start, metricsServer::stop);
    lifecycle.register("local-etcd", local::open, local::close);
    lifecycle.register("clustermesh-mirror", mirror::start, mirror::close);
    return lifecycle;
  }

  /** The connection to the local etcd, opened by the lifecycle (a bad file fails the start, naming it). */
  static final class LocalEtcd implements EtcdConnection {
    private final KvstoreSyncConfig config;
    private volatile ReloadingEtcdConnection connection;

    LocalEtcd(KvstoreSyncConfig config) {
      this.config = config;
    }

    void open() {
      connection = ReloadingEtcdConnection.open(RemoteClusterConfig.load(config.kvstoreConfig()));
    }

    @Override
    public io.etcd.jetcd.Client client() {
      ReloadingEtcdConnection current = connection;
      if (current == null) {
        throw new IllegalStateException("the local etcd (" + config.kvstoreConfig() + ") is not open");
      }
      return current.client();
    }

    @Override
    public String name() {
      return "local etcd " + config.kvstoreConfig();
    }

    @Override
    public void close() {
      ReloadingEtcdConnection current = connection;
      if (current != null) {
        current.close();
      }
    }
  }
}
