package dev.meshwork.cni.spec;

import dev.meshwork.cni.json.Json;
import dev.meshwork.cni.json.JsonException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The network configuration kubelet streams on stdin (one plugin's entry of the conflist, with
 * {@code cniVersion} and {@code name} copied in by the runtime), validated.
 *
 * @param cniVersion the negotiated version: results and errors are printed in its format
 * @param name the network name
 * @param type the plugin type (the executable's name)
 * @param agentSocket {@code agent-socket}: the agent's Unix socket
 * @param mtu {@code mtu}: the pod interface MTU the agent should set, 0 for the agent's default
 * @param logFile {@code log-file}: where the plugin appends its log, empty for no log
 * @param logLevel {@code log-level}
 * @param agentTimeout {@code agent-timeout-seconds}: the deadline of each call to the agent
 * @param prevResult {@code prevResult} as a JSON object, {@code null} when absent
 * @param validAttachments {@code cni.dev/valid-attachments} (GC), {@code null} when absent
 * @param raw the configuration bytes exactly as received, forwarded to the agent
 */
public record NetworkConfig(
    CniVersion cniVersion,
    String name,
    String type,
    String agentSocket,
    int mtu,
    String logFile,
    LogLevel logLevel,
    Duration agentTimeout,
    Map<String, Object> prevResult,
    List<Attachment> validAttachments,
    byte[] raw) {

  public static final String DEFAULT_AGENT_SOCKET = "/var/run/meshwork/agent.sock";
  public static final Duration DEFAULT_AGENT_TIMEOUT = Duration.ofSeconds(60);

  static final String VALID_ATTACHMENTS = "cni.dev/valid-attachments";
  // libcni also sends the name from an earlier draft of the spec (containernetworking/cni#1101).
  static final String ATTACHMENTS_ALIAS = "cni.dev/attachments";

  // The specification's rule for network names.
  private static final Pattern NETWORK_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");

  /** How much the plugin writes to {@code log-file}. */
  public enum LogLevel {
    ERROR,
    WARN,
    INFO,
    DEBUG;

    public boolean enables(LogLevel level) {
      return level.ordinal() <= ordinal();
    }
  }

  /** One entry of {@code cni.dev/valid-attachments}. */
  public record Attachment(String containerId, String ifname) {}

  /**
   * Decodes and validates the configuration.
   *
   * @throws CniException 6 if stdin is not a JSON object, 7 naming the field that is missing or
   *     invalid, 1 or 6 for an unsupported or undecodable {@code cniVersion}
   */
  public static NetworkConfig parse(byte[] stdin) {
    String text = new String(stdin, StandardCharsets.UTF_8);
    Map<String, Object> json;
    try {
      json = Json.parseObject(text);
    } catch (JsonException e) {
      throw new CniException(
          CniError.DECODING_FAILURE,
          "cannot decode the network configuration on stdin",
          e.getMessage(),
          e);
    }
    // The version first: a configuration in a version we do not speak is not read any further.
    CniVersion version = CniVersion.of(requiredString(json, "cniVersion"));
    String name = requiredString(json, "name");
    if (!NETWORK_NAME.matcher(name).matches()) {
      throw invalid(
          "invalid network name \"" + name + "\"",
          "field \"name\" must start with a letter or digit, followed by letters, digits, '_', '.'"
              + " or '-'");
    }
    String type = requiredString(json, "type");

    String agentSocket = optionalString(json, "agent-socket", DEFAULT_AGENT_SOCKET);
    if (!agentSocket.startsWith("/")) {
      throw invalid(
          "invalid agent-socket \"" + agentSocket + "\"",
          "field \"agent-socket\" must be an absolute path, e.g. " + DEFAULT_AGENT_SOCKET);
    }
    int mtu = optionalInt(json, "mtu", 0, 68, 65535);
    String logFile = optionalString(json, "log-file", "");
    if (!logFile.isEmpty() && !logFile.startsWith("/")) {
      throw invalid(
          "invalid log-file \"" + logFile + "\"",
          "field \"log-file\" must be an absolute path, e.g. /var/log/meshwork-cni.log");
    }
    String levelText = optionalString(json, "log-level", "info");
    LogLevel logLevel = switch (levelText.toLowerCase(java.util.Locale.ROOT)) {
      case "error" -> LogLevel.ERROR;
      case "warn", "warning" -> LogLevel.WARN;
      case "info" -> LogLevel.INFO;
      case "debug" -> LogLevel.DEBUG;
      default -> throw invalid(
          "invalid log-level \"" + levelText + "\"",
          "field \"log-level\" must be one of error, warn, info, debug");
    };
    int timeoutSeconds =
        optionalInt(
            json, "agent-timeout-seconds", (int) DEFAULT_AGENT_TIMEOUT.toSeconds(), 1, 3600);

    Map<String, Object> prevResult = null;
    Object prev = json.get("prevResult");
    if (prev != null && prev != Json.NULL) {
      if (!(prev instanceof Map<?, ?>)) {
        throw invalid(
            "invalid prevResult",
            "field \"prevResult\" must be an object (the result of the previous ADD) but is "
                + Json.typeName(prev));
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> prevMap = (Map<String, Object>) prev;
      prevResult = prevMap;
    }

    List<Attachment> attachments = null;
    String attachmentsKey = json.containsKey(VALID_ATTACHMENTS) ? VALID_ATTACHMENTS
        : json.containsKey(ATTACHMENTS_ALIAS) ? ATTACHMENTS_ALIAS : null;
    if (attachmentsKey != null) {
      attachments = parseAttachments(attachmentsKey, json.get(attachmentsKey));
    }
    return new NetworkConfig(
        version,
        name,
        type,
        agentSocket,
        mtu,
        logFile,
        logLevel,
        Duration.ofSeconds(timeoutSeconds),
        prevResult,
        attachments,
        stdin.clone());
  }

  private static List<Attachment> parseAttachments(String key, Object value) {
    if (!(value instanceof List<?> list)) {
      throw invalid(
          "invalid " + key,
          "field \"" + key + "\" must be an array of {\"containerID\", \"ifname\"} objects but is "
              + Json.typeName(value));
    }
    List<Attachment> attachments = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      String where = key + "[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> entry)) {
        throw invalid("invalid " + where, "\"" + where + "\" must be an object but is "
            + Json.typeName(list.get(i)));
      }
      Object containerId = entry.get("containerID");
      Object ifname = entry.get("ifname");
      if (!(containerId instanceof String c) || c.isEmpty()) {
        throw invalid("invalid " + where, "\"" + where + ".containerID\" must be a non-empty"
            + " string");
      }
      if (!(ifname instanceof String f) || f.isEmpty()) {
        throw invalid("invalid " + where, "\"" + where + ".ifname\" must be a non-empty string");
      }
      attachments.add(new Attachment(c, f));
    }
    return List.copyOf(attachments);
  }

  private static String requiredString(Map<String, Object> json, String field) {
    Object value = json.get(field);
    if (value == null) {
      throw invalid(
          "missing required field \"" + field + "\"",
          "the network configuration must have \"" + field + "\" (a string)");
    }
    if (!(value instanceof String s) || s.isEmpty()) {
      throw invalid(
          "invalid field \"" + field + "\"",
          "\"" + field + "\" must be a non-empty string but is " + describe(value));
    }
    return s;
  }

  private static String optionalString(Map<String, Object> json, String field, String fallback) {
    Object value = json.get(field);
    if (value == null || value == Json.NULL) {
      return fallback;
    }
    if (!(value instanceof String s)) {
      throw invalid(
          "invalid field \"" + field + "\"",
          "\"" + field + "\" must be a string but is " + Json.typeName(value));
    }
    return s.isEmpty() ? fallback : s;
  }

  private static int optionalInt(
      Map<String, Object> json, String field, int fallback, int min, int max) {
    Object value = json.get(field);
    if (value == null || value == Json.NULL) {
      return fallback;
    }
    if (value instanceof BigDecimal n) {
      try {
        int i = n.intValueExact();
        if (i >= min && i <= max) {
          return i;
        }
      } catch (ArithmeticException e) {
        // not an integer or out of int range: reported below
      }
    }
    throw invalid(
        "invalid field \"" + field + "\"",
        "\"" + field + "\" must be an integer from " + min + " to " + max + " but is "
            + describe(value));
  }

  private static String describe(Object value) {
    return value instanceof String || value instanceof BigDecimal || value instanceof Boolean
        ? Json.typeName(value) + " " + Json.write(value)
        : Json.typeName(value);
  }

  private static CniException invalid(String msg, String details) {
    return new CniException(CniError.INVALID_NETWORK_CONFIG, msg, details);
  }
}
