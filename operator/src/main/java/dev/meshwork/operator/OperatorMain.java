package dev.meshwork.operator;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.common.lifecycle.Lifecycle;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/** meshwork-operator: writes this cluster's Kubernetes state into its etcd. */
public final class OperatorMain {

  private OperatorMain() {}

  public static void main(String[] args) throws InterruptedException {
    ConfigSource source = ConfigSource.fromProcess(args);
    OperatorConfig config;
    try {
      config = OperatorConfig.from(source);
      source.rejectUnknown();
    } catch (ConfigException e) {
      System.err.println("meshwork-operator: " + e.getMessage());
      System.exit(2);
      return;
    }
    if (source.helpRequested()) {
      System.out.println(source.help());
      return;
    }
    Lifecycle lifecycle =
        DaggerOperatorComponent.factory().create(config, new KubernetesClientBuilder().build()).lifecycle();
    lifecycle.installShutdownHook();
    lifecycle.start();
    lifecycle.awaitShutdown();
    System.exit(lifecycle.failure().isPresent() ? 1 : 0);
  }
}
