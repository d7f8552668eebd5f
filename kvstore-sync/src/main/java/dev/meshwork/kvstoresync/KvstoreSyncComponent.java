package dev.meshwork.kvstoresync;

import dagger.BindsInstance;
import dagger.Component;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.MetricsServer;
import dev.meshwork.kvstoresync.mirror.ClusterMeshMirror;
import jakarta.inject.Singleton;

/** The wiring of {@code meshwork-kvstore-sync}: one component per binary, built from its config. */
@Singleton
@Component(modules = KvstoreSyncModule.class)
public interface KvstoreSyncComponent {
  /** The lifecycle with every component of the process registered in start order. */
  Lifecycle lifecycle();

  Metrics metrics();

  KvstoreSyncConfig config();

  MetricsServer metricsServer();

  /** The mirrors of the remote clusters and their status. */
  ClusterMeshMirror mirror();

  @Component.Factory
  interface Factory {
    KvstoreSyncComponent create(@BindsInstance KvstoreSyncConfig config);
  }
}
