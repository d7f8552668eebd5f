package dev.meshwork.agent;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.config.ConfigException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import javax.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local cluster's Kubernetes API, from fabric8's auto-configuration (in-cluster service
 * account, else kubeconfig), for the policy watcher, the local services and the endpoint manager.
 * Present when any of them is {@code enabled}, or {@code auto} and an API is configured; absent
 * otherwise: the agent then runs without network policy, with only the global services of the
 * local etcd, and without pod endpoints.
 */
@Module
public final class KubernetesModule {
  private static final Logger log = LoggerFactory.getLogger(KubernetesModule.class);

  private KubernetesModule() {}

  /**
   * Makes {@code informer} retry every failure, with fabric8's backoff. By default fabric8 gives
   * up on an informer whose first list fails (an API server that is slow or restarting while the
   * agent starts), and the agent would then never see that kind again. Call before starting it.
   */
  public static <T> SharedIndexInformer<T> retryingForever(SharedIndexInformer<T> informer) {
    informer.exceptionHandler(
        (started, error) -> {
          log.warn("informer {} failed ({}), retrying: {}",
              informer.getApiTypeClass().getSimpleName(), started ? "watching" : "initial list", error.toString());
          return true;
        });
    return informer;
  }

  @Provides
  @Singleton
  static Optional<KubernetesClient> kubernetes(AgentConfig config) {
    // The settings that use the API, in the order their name is given in an error.
    List<ApiUse> uses =
        List.of(
            new ApiUse(
                "policy-enforcement",
                config.policyEnforcement() == AgentConfig.PolicyEnforcement.ENABLED,
                config.policyEnforcement() == AgentConfig.PolicyEnforcement.AUTO),
            new ApiUse(
                "local-services",
                config.localServices() == AgentConfig.LocalServices.ENABLED,
                config.localServices() == AgentConfig.LocalServices.AUTO),
            new ApiUse(
                "endpoint-manager",
                config.endpoints().management() == AgentConfig.EndpointManagement.ENABLED,
                config.endpoints().management() == AgentConfig.EndpointManagement.AUTO));
    Optional<ApiUse> required = uses.stream().filter(ApiUse::required).findFirst();
    if (required.isPresent()) {
      return Optional.of(connect(required.get().setting()));
    }
    if (!apiConfigured()) {
      return Optional.empty();
    }
    return uses.stream().filter(ApiUse::automatic).findFirst().map(use -> connect(use.setting()));
  }

  /** One setting that uses the API: {@code enabled} (required) or {@code auto} (when configured). */
  private record ApiUse(String setting, boolean required, boolean automatic) {}

  /** A service account mounted in the pod, or a kubeconfig file, as fabric8 would find them. */
  static boolean apiConfigured() {
    if (System.getenv("KUBERNETES_SERVICE_HOST") != null
        && Files.exists(Path.of(Config.KUBERNETES_SERVICE_ACCOUNT_TOKEN_PATH))) {
      return true;
    }
    String kubeconfig = System.getenv("KUBECONFIG");
    Path file =
        kubeconfig != null && !kubeconfig.isBlank()
            ? Path.of(kubeconfig.split(java.io.File.pathSeparator)[0])
            : Path.of(System.getProperty("user.home"), ".kube", "config");
    return Files.isRegularFile(file);
  }

  private static KubernetesClient connect(String setting) {
    try {
      return new KubernetesClientBuilder().withConfig(Config.autoConfigure(null)).build();
    } catch (RuntimeException e) {
      throw new ConfigException(
          setting,
          dev.meshwork.common.config.ConfigSource.flagAndVariable(setting)
              + ": cannot configure the Kubernetes API client: " + e.getMessage(),
          e);
    }
  }
}
