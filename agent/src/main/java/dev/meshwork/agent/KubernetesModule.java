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
 * account, else kubeconfig). Present when network policy or local services need it: required
 * when either is {@code enabled}, used when either is {@code auto} and an API is configured, absent
 * when both are {@code disabled}. Without it the agent runs without network policy and with only
 * the global services of the local etcd.
 */
@Module
public final class KubernetesModule {
  private KubernetesModule() {}

  @Provides
  @Singleton
  static Optional<KubernetesClient> kubernetes(AgentConfig config) {
    if (config.policyEnforcement() == AgentConfig.PolicyEnforcement.ENABLED) {
      return Optional.of(connect("policy-enforcement"));
    }
    if (config.localServices() == AgentConfig.LocalServices.ENABLED) {
      return Optional.of(connect("local-services"));
    }
    boolean wanted =
        config.policyEnforcement() == AgentConfig.PolicyEnforcement.AUTO
            || config.localServices() == AgentConfig.LocalServices.AUTO;
    String setting =
        config.policyEnforcement() == AgentConfig.PolicyEnforcement.AUTO ? "policy-enforcement" : "local-services";
    return wanted && apiConfigured() ? Optional.of(connect(setting)) : Optional.empty();
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

  private static KubernetesClient connect(String setting) {
    try {
      return new KubernetesClientBuilder().withConfig(Config.autoConfigure(null)).build();
    } catch (RuntimeException e) {
      throw new ConfigException(
          setting,
          "--" + setting + " (MESHWORK_" + setting.toUpperCase(java.util.Locale.ROOT).replace('-', '_')
              + "): cannot configure the Kubernetes API client: " + e.getMessage(),
          e);
    }
  }
}
