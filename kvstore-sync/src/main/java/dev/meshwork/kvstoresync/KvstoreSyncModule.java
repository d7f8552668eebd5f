package dev.meshwork.kvstoresync;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.PrometheusEndpoint;
import jakarta.inject.Singleton;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/** Provides the process-wide pieces of kvstore-sync and registers them with the lifecycle. */
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
  static Lifecycle lifecycle(KvstoreSyncConfig config, Metrics metrics) {
    Lifecycle lifecycle = new Lifecycle();
    AtomicReference<PrometheusEndpoint> endpoint = new AtomicReference<>();
    lifecycle.register("metrics-endpoint",
        () -> endpoint.set(metrics.start(new InetSocketAddress(config.metricsPort()))),
        () -> {
          PrometheusEndpoint running = endpoint.getAndSet(null);
          if (running != null) {
            running.close();
          }
        });
    return lifecycle;
  }
}
