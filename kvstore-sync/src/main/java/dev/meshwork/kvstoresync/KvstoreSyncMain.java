package dev.meshwork.kvstoresync;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.lifecycle.LifecycleException;
import java.io.PrintStream;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code meshwork-kvstore-sync}: mirrors remote clusters' state into the local etcd.
 *
 * <p>Exit codes: 2 for bad settings, 1 when a component fails to start or fails fatally later, 0
 * when the lifecycle stops by itself. On SIGTERM the components are stopped by the JVM shutdown
 * hook and the JVM exits with its usual 143.
 */
public final class KvstoreSyncMain {
  private static final Logger log = LoggerFactory.getLogger(KvstoreSyncMain.class);
  static final String BINARY = "meshwork-kvstore-sync";

  private KvstoreSyncMain() {}

  public static void main(String[] args) throws InterruptedException {
    int code = run(args, System.getenv(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs until stopped (SIGTERM) and returns the exit code. */
  static int run(String[] args, Map<String, String> environment, PrintStream out, PrintStream err) throws InterruptedException {
    return run(args, environment, out, err, component -> {});
  }

  /** As {@link #run(String[], Map, PrintStream, PrintStream)}; {@code onStarted} sees the running component (tests stop it). */
  static int run(String[] args, Map<String, String> environment, PrintStream out, PrintStream err, Consumer<KvstoreSyncComponent> onStarted)
      throws InterruptedException {
    KvstoreSyncConfig config;
    try {
      ConfigSource source = ConfigSource.of(args, environment);
      if (source.helpRequested()) {
        printHelp(source, out);
        return 0;
      }
      config = KvstoreSyncConfig.from(source);
      source.rejectUnknown();
    } catch (ConfigException e) {
      err.println(BINARY + ": " + e.getMessage());
      err.println("Run " + BINARY + " --help to list the settings.");
      return 2;
    }
    KvstoreSyncComponent component = DaggerKvstoreSyncComponent.factory().create(config);
    Lifecycle lifecycle = component.lifecycle();
    lifecycle.installShutdownHook();
    try {
      lifecycle.start();
    } catch (LifecycleException e) {
      err.println(BINARY + ": " + e.getMessage());
      return 1;
    }
    log.info("{} running for cluster {} (id {})", BINARY, config.clusterName(), config.clusterId());
    onStarted.accept(component);
    lifecycle.awaitShutdown();
    return lifecycle.failure().isPresent() ? 1 : 0;
  }

  private static void printHelp(ConfigSource source, PrintStream out) {
    try {
      KvstoreSyncConfig.from(source); // records every setting; values are not checked under --help
    } catch (RuntimeException incomplete) {
      // missing required settings are fine here
    }
    out.println("Usage: " + BINARY + " [--setting=value ...]");
    out.println("Mirrors remote clusters' state into the local etcd. Every setting can also be given");
    out.println("as an environment variable (shown in parentheses); a flag wins over the environment.");
    out.println();
    out.print(source.help());
  }
}
