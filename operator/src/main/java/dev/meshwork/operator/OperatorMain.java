package dev.meshwork.operator;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.lifecycle.LifecycleException;
import dev.meshwork.kvstore.etcd.InvalidConfigException;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/** meshwork-operator: writes this cluster's Kubernetes state into its etcd. */
public final class OperatorMain {

  private OperatorMain() {}

  public static void main(String[] args) throws InterruptedException {
    ConfigSource source = ConfigSource.fromProcess(args);
    if (source.helpRequested()) {
      try {
        OperatorConfig.from(source); // records every setting for the help text
      } catch (ConfigException incomplete) {
        // missing settings do not matter for --help
      }
      System.out.println("Usage: meshwork-operator [--setting=value ...]");
      System.out.println("Every setting can also be given as MESHWORK_<SETTING>; a flag wins.");
      System.out.print(source.help());
      return;
    }
    OperatorConfig config;
    try {
      config = OperatorConfig.from(source);
      source.rejectUnknown();
    } catch (ConfigException e) {
      System.err.println("meshwork-operator: " + e.getMessage());
      System.err.println("Run meshwork-operator --help to list the settings.");
      System.exit(2);
      return;
    }
    Lifecycle lifecycle;
    try {
      lifecycle =
          DaggerOperatorComponent.factory().create(config, new KubernetesClientBuilder().build()).lifecycle();
    } catch (InvalidConfigException e) {
      System.err.println("meshwork-operator: --kvstore-config: " + e.getMessage());
      System.exit(2);
      return;
    }
    lifecycle.installShutdownHook();
    try {
      lifecycle.start();
    } catch (LifecycleException e) {
      System.err.println("meshwork-operator: " + e.getMessage());
      System.exit(1);
    }
    lifecycle.awaitShutdown();
    System.exit(lifecycle.failure().isPresent() ? 1 : 0);
  }
}
