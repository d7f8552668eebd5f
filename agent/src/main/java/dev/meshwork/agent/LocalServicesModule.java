package dev.meshwork.agent;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.ServiceTable;
import dev.meshwork.agent.service.kubernetes.LocalServiceWatcher;
import dev.meshwork.common.metrics.Metrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import javax.inject.Provider;
import javax.inject.Singleton;

/**
 * The local cluster's Services from its Kubernetes API ({@code --local-services}): present when
 * the Kubernetes client is and local services are not disabled. When present it is the only
 * source of the local cluster's services (global or not); the local etcd's copy of the global
 * ones, written by the operator from the same objects, is then not applied, so nothing is counted
 * twice. Remote clusters' services still come from the kvstore.
 */
@Module
public final class LocalServicesModule {
  private LocalServicesModule() {}

  @Provides
  @Singleton
  static Optional<LocalServiceWatcher> localServices(
      AgentConfig config,
      Optional<KubernetesClient> kubernetes,
      ServiceTable services,
      Metrics metrics,
      Provider<DatapathReconciler> reconciler) {
    if (config.localServices() == AgentConfig.LocalServices.DISABLED) {
      return Optional.empty();
    }
    return kubernetes.map(
        client -> new LocalServiceWatcher(client, services, metrics.registry(), () -> reconciler.get().kick()));
  }
}
