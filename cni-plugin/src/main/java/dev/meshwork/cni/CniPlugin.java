package dev.meshwork.cni;

import dev.meshwork.cni.agent.Agent;
import dev.meshwork.cni.agent.AgentAnswer;
import dev.meshwork.cni.agent.AgentConnector;
import dev.meshwork.cni.agent.AgentRequest;
import dev.meshwork.cni.json.Json;
import dev.meshwork.cni.json.JsonException;
import dev.meshwork.cni.spec.CniCommand;
import dev.meshwork.cni.spec.CniEnvironment;
import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniException;
import dev.meshwork.cni.spec.CniOutput;
import dev.meshwork.cni.spec.CniResult;
import dev.meshwork.cni.spec.CniVersion;
import dev.meshwork.cni.spec.NetworkConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One CNI invocation: environment and stdin in, the agent called, the answer printed on stdout in
 * the negotiated version's JSON, and the exit status returned. Everything the specification asks
 * of a plugin lives here; {@link CniMain} only wires it to the real process.
 */
public final class CniPlugin {

  /** STATUS gets a short deadline: it is a readiness probe, not work. */
  static final Duration STATUS_DEADLINE = Duration.ofSeconds(5);

  private final AgentConnector connector;

  public CniPlugin(AgentConnector connector) {
    this.connector = connector;
  }

  /**
   * Runs the invocation.
   *
   * @return the process exit status: 0 on success, 1 when an error was printed
   */
  public int run(Map<String, String> env, InputStream stdin, PrintStream stdout) {
    byte[] input;
    try {
      input = stdin.readAllBytes();
    } catch (IOException e) {
      return fail(stdout, CniVersion.LATEST, new CniError(CniError.IO_FAILURE,
          "cannot read the network configuration from stdin", String.valueOf(e.getMessage())),
          CniLog.none());
    }
    CniVersion errorVersion = versionForErrors(input);
    CniLog log = CniLog.none();
    try {
      CniEnvironment environment = CniEnvironment.from(env);
      if (environment.command() == CniCommand.VERSION) {
        stdout.print(CniOutput.version(requestedVersion(input)));
        stdout.flush();
        return 0;
      }
      NetworkConfig config = NetworkConfig.parse(input);
      errorVersion = config.cniVersion();
      log = CniLog.to(config.logFile(), config.logLevel());
      log.context(environment.command() + (environment.command().concernsAttachment()
          ? " container=" + environment.containerId() + " ifname=" + environment.ifname()
          : "") + " network=" + config.name());
      return invoke(environment, config, log, stdout);
    } catch (CniException e) {
      return fail(stdout, errorVersion, e.error(), log);
    } catch (RuntimeException e) {
      // A bug of ours: still answer in CNI's format, so that the runtime shows what happened.
      return fail(stdout, errorVersion, new CniError(CniError.PLUGIN_BUG,
          "internal error in meshwork-cni", e.toString()), log);
    }
  }

  private int invoke(CniEnvironment env, NetworkConfig config, CniLog log, PrintStream stdout) {
    CniCommand verb = env.command();
    requireVerbAllowed(verb, config);
    long started = System.nanoTime();
    AgentRequest request = request(env, config);
    if (log.enabled(NetworkConfig.LogLevel.DEBUG)) {
      log.debug("netns=" + env.netns() + " args=" + env.args() + " agent=" + config.agentSocket());
    }
    AgentAnswer answer;
    Duration deadline = verb == CniCommand.STATUS
        ? min(STATUS_DEADLINE, config.agentTimeout())
        : config.agentTimeout();
    try (Agent agent = connector.connect(config.agentSocket())) {
      answer = agent.call(verb, request, deadline);
    } catch (CniException e) {
      if (verb == CniCommand.STATUS && e.error().code() == CniError.TRY_AGAIN_LATER) {
        // For STATUS the specification has its own code: the plugin cannot serve ADDs now.
        throw new CniException(CniError.PLUGIN_NOT_AVAILABLE, e.error().msg(),
            e.error().details(), e);
      }
      throw e;
    }
    long tookMs = (System.nanoTime() - started) / 1_000_000;
    // instanceof rather than a pattern switch: the switch's bootstrap generates a class at run
    // time (ClassFile API), which costs a plugin JVM measurable CPU (docs/benchmarks.md, "CNI plugin").
    if (answer instanceof AgentAnswer.Failure failure) {
      // The agent's own error, passed through unchanged: it knows what went wrong.
      throw new CniException(failure.error(), null);
    }
    AgentAnswer.Success success = (AgentAnswer.Success) answer;
    if (verb == CniCommand.ADD) {
      stdout.print(CniOutput.result(config.cniVersion(), success.result()));
      stdout.flush();
    }
    // DEL, CHECK, STATUS and GC print nothing on success.
    if (log.enabled(NetworkConfig.LogLevel.INFO)) {
      log.info("ok in " + tookMs + " ms" + (verb == CniCommand.ADD
          ? ", ips " + success.result().ips().stream().map(CniResult.IpConfig::address)
              .toList()
          : ""));
    }
    return 0;
  }

  /** The spec's per-verb conditions on the configuration (CHECK needs prevResult, ...). */
  private static void requireVerbAllowed(CniCommand verb, NetworkConfig config) {
    if ((verb == CniCommand.STATUS || verb == CniCommand.GC)
        && !config.cniVersion().atLeast(CniVersion.V1_1_0)) {
      throw new CniException(CniError.INCOMPATIBLE_VERSION,
          verb + " needs cniVersion 1.1.0 or later",
          "the network configuration has cniVersion \"" + config.cniVersion().text()
              + "\"; " + verb + " was added in CNI 1.1.0");
    }
    if (verb == CniCommand.CHECK && config.prevResult() == null) {
      throw new CniException(CniError.INVALID_NETWORK_CONFIG,
          "CHECK needs prevResult",
          "the runtime must pass the result of the previous ADD as \"prevResult\" in the"
              + " network configuration");
    }
    if (verb == CniCommand.GC && config.validAttachments() == null) {
      // Without the list every endpoint would look stale: refuse rather than delete them all.
      throw new CniException(CniError.INVALID_NETWORK_CONFIG,
          "GC needs cni.dev/valid-attachments",
          "the runtime must pass the attachments that are still in use as"
              + " \"cni.dev/valid-attachments\" (an empty array if there are none)");
    }
  }

  private static AgentRequest request(CniEnvironment env, NetworkConfig config) {
    List<AgentRequest.Attachment> attachments = new ArrayList<>();
    if (config.validAttachments() != null) {
      for (NetworkConfig.Attachment a : config.validAttachments()) {
        attachments.add(new AgentRequest.Attachment(a.containerId(), a.ifname()));
      }
    }
    return new AgentRequest(env.containerId(), env.netns(), env.ifname(), env.args(),
        config.name(), config.cniVersion().text(), config.raw(), attachments);
  }

  private static int fail(PrintStream stdout, CniVersion version, CniError error, CniLog log) {
    log.error("failed with code " + error.code() + ": " + error.msg()
        + (error.details().isEmpty() ? "" : " (" + error.details() + ")"));
    stdout.print(CniOutput.error(version, error));
    stdout.flush();
    return 1;
  }

  /**
   * The version to print an error in: the configuration's, if it names one we speak, so that
   * the runtime can parse the error even when the configuration is otherwise broken.
   */
  private static CniVersion versionForErrors(byte[] input) {
    try {
      Object version = Json.parseObject(new String(input, StandardCharsets.UTF_8))
          .get("cniVersion");
      if (version instanceof String s) {
        CniVersion v = CniVersion.supportedOrNull(s);
        if (v != null) {
          return v;
        }
      }
    } catch (JsonException e) {
      // reported properly by NetworkConfig.parse
    }
    return CniVersion.LATEST;
  }

  /** VERSION echoes the cniVersion it was asked with; old runtimes send no input at all. */
  private static String requestedVersion(byte[] input) {
    String text = new String(input, StandardCharsets.UTF_8);
    if (text.isBlank()) {
      return CniVersion.LATEST.text();
    }
    Map<String, Object> json;
    try {
      json = Json.parseObject(text);
    } catch (JsonException e) {
      throw new CniException(CniError.DECODING_FAILURE, "cannot decode the VERSION request",
          e.getMessage(), e);
    }
    Object version = json.get("cniVersion");
    if (version == null || version == Json.NULL) {
      return CniVersion.LATEST.text();
    }
    if (!(version instanceof String s) || s.isEmpty()) {
      throw new CniException(CniError.DECODING_FAILURE, "cannot decode the VERSION request",
          "\"cniVersion\" must be a string but is " + Json.typeName(version));
    }
    return s;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }
}
