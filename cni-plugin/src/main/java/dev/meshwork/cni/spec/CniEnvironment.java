package dev.meshwork.cni.spec;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code CNI_*} environment of one invocation, validated for its verb.
 *
 * @param command the verb from {@code CNI_COMMAND}
 * @param containerId {@code CNI_CONTAINERID}, empty when the verb does not use it
 * @param netns {@code CNI_NETNS}, empty when absent (allowed for DEL)
 * @param ifname {@code CNI_IFNAME}, empty when the verb does not use it
 * @param args {@code CNI_ARGS} split into key/value pairs, in order
 * @param path {@code CNI_PATH} split on ':'
 */
public record CniEnvironment(
    CniCommand command,
    String containerId,
    String netns,
    String ifname,
    Map<String, String> args,
    List<String> path) {

  public static final String COMMAND = "CNI_COMMAND";
  public static final String CONTAINERID = "CNI_CONTAINERID";
  public static final String NETNS = "CNI_NETNS";
  public static final String IFNAME = "CNI_IFNAME";
  public static final String ARGS = "CNI_ARGS";
  public static final String PATH = "CNI_PATH";

  // The specification: starts alphanumeric, then alphanumerics, '_', '.' or '-'.
  private static final Pattern CONTAINER_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.\\-]*");

  public CniEnvironment {
    args = Collections.unmodifiableMap(new LinkedHashMap<>(args));
    path = List.copyOf(path);
  }

  /**
   * Reads and validates the environment.
   *
   * @throws CniException code 4 naming the variable that is missing or invalid
   */
  public static CniEnvironment from(Map<String, String> env) {
    String commandText = env.get(COMMAND);
    if (commandText == null || commandText.isEmpty()) {
      throw invalid(
          COMMAND + " is not set",
          COMMAND + " must be one of ADD, DEL, CHECK, STATUS, GC, VERSION");
    }
    CniCommand command;
    try {
      command = CniCommand.valueOf(commandText);
    } catch (IllegalArgumentException e) {
      throw invalid(
          "unknown " + COMMAND + " \"" + commandText + "\"",
          COMMAND + " must be one of ADD, DEL, CHECK, STATUS, GC, VERSION");
    }
    List<String> missing = new ArrayList<>();
    for (String name : List.of(CONTAINERID, NETNS, IFNAME, PATH)) {
      if (command.requiredVariables().contains(name) && isBlank(env.get(name))) {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      throw invalid(
          "required environment variable" + (missing.size() > 1 ? "s " : " ")
              + String.join(", ", missing) + " not set",
          "CNI " + command + " needs " + String.join(", ", sorted(command)));
    }
    String containerId = "";
    String ifname = "";
    if (command.concernsAttachment()) {
      containerId = env.get(CONTAINERID);
      if (!CONTAINER_ID.matcher(containerId).matches()) {
        throw invalid(
            CONTAINERID + " \"" + containerId + "\" is not a valid container id",
            "a container id starts with a letter or digit, followed by letters, digits, '_', '.'"
                + " or '-'");
      }
      ifname = env.get(IFNAME);
      String problem = interfaceNameProblem(ifname);
      if (problem != null) {
        throw invalid(IFNAME + " \"" + ifname + "\" is not a valid interface name", problem);
      }
    }
    String netns = env.getOrDefault(NETNS, "");
    Map<String, String> args = parseArgs(env.getOrDefault(ARGS, ""));
    String pathText = env.getOrDefault(PATH, "");
    List<String> path = new ArrayList<>();
    for (String dir : pathText.split(":")) {
      if (!dir.isEmpty()) {
        path.add(dir);
      }
    }
    return new CniEnvironment(command, containerId, netns, ifname, args, path);
  }

  /** {@code K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0} into ordered pairs. */
  static Map<String, String> parseArgs(String text) {
    Map<String, String> args = new LinkedHashMap<>();
    if (text.isEmpty()) {
      return args;
    }
    for (String pair : text.split(";")) {
      if (pair.isEmpty()) {
        continue; // tolerate a trailing ';'
      }
      int eq = pair.indexOf('=');
      if (eq <= 0) {
        throw invalid(
            ARGS + " has a malformed pair \"" + pair + "\"",
            ARGS + " must be KEY=VALUE pairs separated by ';', e.g. "
                + "K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0");
      }
      args.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return args;
  }

  /** Why a name cannot be a Linux interface name, or {@code null} if it can. */
  static String interfaceNameProblem(String name) {
    if (name.isEmpty()) {
      return "an interface name must not be empty";
    }
    if (name.equals(".") || name.equals("..")) {
      return "an interface name must not be \".\" or \"..\"";
    }
    if (name.length() > 15) {
      return "an interface name must be shorter than 16 characters (got " + name.length() + ")";
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c == '/' || c == ':' || Character.isWhitespace(c)) {
        return "an interface name must not contain '/', ':' or whitespace";
      }
    }
    return null;
  }

  private static List<String> sorted(CniCommand command) {
    List<String> names = new ArrayList<>();
    for (String name : List.of(CONTAINERID, NETNS, IFNAME, PATH)) {
      if (command.requiredVariables().contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  private static boolean isBlank(String s) {
    return s == null || s.isBlank();
  }

  private static CniException invalid(String msg, String details) {
    return new CniException(CniError.INVALID_ENVIRONMENT, msg, details);
  }
}
