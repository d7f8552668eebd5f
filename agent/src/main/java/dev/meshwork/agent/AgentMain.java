package dev.meshwork.agent;

import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.lifecycle.LifecycleException;
import java.io.PrintStream;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code meshwork-agent}: reads every cluster's state, merges it and programs the datapath.
 *
 * <p>Exit codes: 0 after a clean stop, 1 when a component fails, 2 for bad settings.
 */
public final class AgentMain {
  private static final Logger log = LoggerFactory.getLogger(AgentMain.class);
  static final String BINARY = "meshwork-agent";

  private AgentMain() {}

  public static void main(String[] args) throws InterruptedException {
    int code = run(args, System.getenv(), System.out, System.err);
    if (code != 0) {
      System.exit(code);
    }
  }

  /** Runs until stopped (SIGTERM) and returns the exit code. */
  static int run(String[] args, Map<String, String> environment, PrintStream out, PrintStream err)
      throws InterruptedException {
    AgentConfig config;
    Lifecycle lifecycle;
    try {
      ConfigSource source = ConfigSource.of(args, environment);
      if (source.helpRequested()) {
        try {
          AgentConfig.from(source);
        } catch (RuntimeException incomplete) {
          // only listing the settings
        }
        out.println("Usage: " + BINARY + " [--setting=value ...]");
        out.println("Every setting can also be given as an environment variable (in parentheses).");
        out.println();
        out.print(source.help());
        return 0;
      }
      config = AgentConfig.from(source);
      source.rejectUnknown();
      lifecycle = DaggerAgentComponent.factory().create(config).lifecycle();
    } catch (ConfigException e) {
      err.println(BINARY + ": " + e.getMessage());
      err.println("Run " + BINARY + " --help to list the settings.");
      return 2;
    }
    lifecycle.installShutdownHook();
    try {
      lifecycle.start();
    } catch (LifecycleException e) {
      err.println(BINARY + ": " + e.getMessage());
      return 1;
    }
    log.info("{} running on node {} of cluster {} (id {})", BINARY, config.nodeName(), config.clusterName(), config.clusterId());
    lifecycle.awaitShutdown();
    return lifecycle.failure().isPresent() ? 1 : 0;
  }
}
