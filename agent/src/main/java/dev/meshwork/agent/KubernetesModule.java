package dev.meshwork.agent;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.common.config.ConfigException;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.inject.Singleton;

/**
 * The local cluster's Kubernetes API, from fabric8's auto-configuration (in-cluster service
 * account, else kubeconfig). Absent when {@code --policy-enforcement=disabled}, or with {@code
 * auto} when neither is configured: the agent then runs without network policy.
 */
@Module
public final class KubernetesModule {
  private KubernetesModule() {}

  @Provides
  @Singleton
  static Optional<KubernetesClient> kubernetes(AgentConfig config) {
    return switch (config.policyEnforcement()) {
      case DISABLED -> Optional.empty();
      case ENABLED -> Optional.of(connect());
      case AUTO -> apiConfigured() ? Optional.of(connect()) : Optional.empty();
    };
  }

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

  private static KubernetesClient connect() {
    try {
      return new KubernetesClientBuilder().withConfig(Config.autoConfigure(null)).build();
    } catch (RuntimeException e) {
      throw new ConfigException(
          "policy-enforcement",
          "--policy-enforcement (MESHWORK_POLICY_ENFORCEMENT): cannot configure the Kubernetes API client: "
              + e.getMessage(),
          e);
    }
  }
}
