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
 * account, else kubeconfig), for the policy watcher and the endpoint manager. Present when either
 * is {@code enabled}, or {@code auto} and an API is configured; absent otherwise: the agent then
 * runs without network policy and without pod endpoints.
 */
@Module
public final class KubernetesModule {
  private KubernetesModule() {}

  @Provides
  @Singleton
  static Optional<KubernetesClient> kubernetes(AgentConfig config) {
    AgentConfig.PolicyEnforcement policy = config.policyEnforcement();
    AgentConfig.EndpointManagement endpoints = config.endpoints().management();
    if (policy == AgentConfig.PolicyEnforcement.ENABLED) {
      return Optional.of(connect("policy-enforcement"));
    }
    if (endpoints == AgentConfig.EndpointManagement.ENABLED) {
      return Optional.of(connect("endpoint-manager"));
    }
    boolean auto = policy == AgentConfig.PolicyEnforcement.AUTO || endpoints == AgentConfig.EndpointManagement.AUTO;
    if (!auto || !apiConfigured()) {
      return Optional.empty();
    }
    return Optional.of(connect(policy == AgentConfig.PolicyEnforcement.AUTO ? "policy-enforcement" : "endpoint-manager"));
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
          dev.meshwork.common.config.ConfigSource.flagAndVariable(setting)
              + ": cannot configure the Kubernetes API client: " + e.getMessage(),
          e);
    }
  }
}
