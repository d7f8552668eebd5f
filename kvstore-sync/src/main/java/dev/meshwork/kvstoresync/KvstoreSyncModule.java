package dev.meshwork.kvstoresync;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.MetricsServer;
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

  @Provides
  @Singleton
  static Lifecycle lifecycle(MetricsServer metricsServer) {
    Lifecycle lifecycle = new Lifecycle();
    lifecycle.register("metrics-endpoint", metricsServer::start, metricsServer::stop);
    return lifecycle;
  }
}
