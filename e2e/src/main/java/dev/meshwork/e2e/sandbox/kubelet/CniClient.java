package dev.meshwork.e2e.sandbox.kubelet;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Runs CNI plugins the way kubelet's runtime does through libcni: for a network configuration
 * list, each plugin's configuration gets the list's {@code name} and {@code cniVersion} injected
 * (and {@code prevResult} where the spec asks for it) and goes to the plugin's stdin; the plugin
 * is the executable named by its {@code type} in {@code CNI_PATH}; {@code CNI_COMMAND}, {@code
 * CNI_CONTAINERID}, {@code CNI_NETNS}, {@code CNI_IFNAME}, {@code CNI_ARGS} and {@code CNI_PATH}
 * are set in its environment. ADD runs the plugins in order, each with the previous one's result
 * as {@code prevResult}; DEL runs them in reverse order, each with the cached ADD result.
 */
final class CniClient {

  static final JsonMapper JSON = JsonMapper.builder().build();

  private final Path cniPlugin;
  private final Path cniPath;
  private final Duration timeout;

  /**
   * @param cniPlugin the {@code meshwork-cni} launcher; its directory becomes {@code CNI_PATH}
   *     and a plugin whose {@code type} is the launcher's file name runs the launcher itself
   */
  CniClient(Path cniPlugin, Duration timeout) {
    this.cniPlugin = cniPlugin.toAbsolutePath();
    this.cniPath = this.cniPlugin.getParent();
    this.timeout = timeout;
  }

  Path cniPath() {
    return cniPath;
  }

  /** One attachment: the runtime's side of the CNI environment. */
  record Attachment(String containerId, String netnsPath, String ifName, Map<String, String> args) {

    /** {@code K=V;K=V}, in the order given. */
    String cniArgs() {
      return args.entrySet().stream()
          .map(e -> e.getKey() + "=" + e.getValue())
          .collect(Collectors.joining(";"));
    }
  }

  /** kubelet's CNI_ARGS for a pod. */
  static Map<String, String> podArgs(String namespace, String name, String containerId, String uid) {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("IgnoreUnknown", "1");
    args.put("K8S_POD_NAMESPACE", namespace);
    args.put("K8S_POD_NAME", name);
    args.put("K8S_POD_INFRA_CONTAINER_ID", containerId);
    args.put("K8S_POD_UID", uid);
    return args;
  }

  /** ADD through every plugin of the list; returns the last plugin's result (JSON). */
  String add(Path confList, Attachment attachment) throws CniException {
    NetworkList list = NetworkList.read(confList);
    JsonNode result = null;
    for (ObjectNode plugin : list.plugins()) {
      String out = exec("ADD", list.configFor(plugin, result), attachment, list.file());
      try {
        result = JSON.readTree(out);
      } catch (JacksonException e) {
        throw new CniException(
            "CNI ADD of plugin " + type(plugin) + " printed no JSON result: " + abbreviate(out), e);
      }
      if (result == null || !result.isObject()) {
        throw new CniException(-1, "CNI ADD of plugin " + type(plugin) + " printed no result object: " + abbreviate(out));
      }
    }
    return JSON.writeValueAsString(result);
  }

  /** DEL through every plugin of the list in reverse order, with the ADD result if there is one. */
  void del(Path confList, Attachment attachment, String prevResult) throws CniException {
    NetworkList list = NetworkList.read(confList);
    JsonNode previous = null;
    if (prevResult != null && !prevResult.isBlank()) {
      try {
        previous = JSON.readTree(prevResult);
      } catch (JacksonException e) {
        throw new CniException("the cached CNI result is not JSON: " + abbreviate(prevResult), e);
      }
    }
    for (ObjectNode plugin : list.plugins().reversed()) {
      exec("DEL", list.configFor(plugin, previous), attachment, list.file());
    }
  }

  /** The first IPv4 address of a CNI result ({@code ips[].address} without its prefix length). */
  static String firstIpv4(String result) throws CniException {
    try {
      for (JsonNode ip : JSON.readTree(result).path("ips")) {
        String address = ip.path("address").asString("");
        int slash = address.indexOf('/');
        String bare = slash < 0 ? address : address.substring(0, slash);
        if (bare.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
          return bare;
        }
      }
    } catch (JacksonException e) {
      throw new CniException("the CNI result is not JSON: " + abbreviate(result), e);
    }
    throw new CniException(-1, "the CNI result has no IPv4 address in \"ips\": " + abbreviate(result));
  }

  private String exec(String command, byte[] config, Attachment attachment, Path confList)
      throws CniException {
    String type = typeOf(config);
    Path executable = executableFor(type);
    ProcessBuilder builder = new ProcessBuilder(executable.toString());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("CNI_"));
    env.put("CNI_COMMAND", command);
    env.put("CNI_CONTAINERID", attachment.containerId());
    env.put("CNI_NETNS", attachment.netnsPath() == null ? "" : attachment.netnsPath());
    env.put("CNI_IFNAME", attachment.ifName());
    env.put("CNI_ARGS", attachment.cniArgs());
    env.put("CNI_PATH", cniPath.toString());
    String what = "CNI " + command + " of container " + attachment.containerId() + " (plugin " + type + ", " + confList + ")";
    Process process;
    try {
      process = builder.start();
    } catch (IOException e) {
      throw new CniException(what + ": cannot run " + executable + ": " + e.getMessage(), e);
    }
    CompletableFuture<byte[]> stdout = drain(process.getInputStream());
    CompletableFuture<byte[]> stderr = drain(process.getErrorStream());
    try (OutputStream stdin = process.getOutputStream()) {
      stdin.write(config);
    } catch (IOException e) {
      // the plugin may exit without reading stdin; its exit status tells what happened
    }
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        throw new CniException(-1, what + ": no answer within " + timeout.toSeconds() + " s");
      }
      String out = new String(stdout.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
      String err = new String(stderr.get(5, TimeUnit.SECONDS), StandardCharsets.UTF_8);
      if (process.exitValue() == 0) {
        return out;
      }
      throw errorOf(what, process.exitValue(), out, err);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new CniException(what + ": interrupted", e);
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      throw new CniException(what + ": cannot read the plugin's output", e);
    }
  }

  private static CniException errorOf(String what, int exit, String out, String err) {
    try {
      JsonNode error = JSON.readTree(out);
      if (error != null && error.isObject() && error.has("code")) {
        String details = error.path("details").asString("");
        return new CniException(
            error.path("code").asInt(-1),
            what + ": error " + error.path("code").asInt(-1) + ": " + error.path("msg").asString("")
                + (details.isEmpty() ? "" : " (" + details + ")"));
      }
    } catch (JacksonException e) {
      // not a CNI error answer: report the raw output below
    }
    return new CniException(
        -1, what + ": exit status " + exit + ", stdout: " + abbreviate(out) + ", stderr: " + abbreviate(err));
  }

  private Path executableFor(String type) throws CniException {
    if (type.equals(cniPlugin.getFileName().toString())) {
      return cniPlugin;
    }
    if (type.contains("/") || type.equals(".") || type.equals("..")) {
      throw new CniException(-1, "plugin type \"" + type + "\" is not a file name");
    }
    Path candidate = cniPath.resolve(type);
    if (!Files.isExecutable(candidate)) {
      throw new CniException(-1, "plugin type \"" + type + "\" not found in CNI_PATH " + cniPath);
    }
    return candidate;
  }

  private static String typeOf(byte[] config) {
    return JSON.readTree(config).path("type").asString("");
  }

  private static String type(JsonNode plugin) {
    return plugin.path("type").asString("?");
  }

  private static CompletableFuture<byte[]> drain(InputStream in) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (in) {
            return in.readAllBytes();
          } catch (IOException e) {
            return new byte[0];
          }
        },
        r -> Thread.ofVirtual().start(r));
  }

  static String abbreviate(String text) {
    String oneLine = text.strip().replace('\n', ' ');
    return oneLine.length() > 400 ? oneLine.substring(0, 400) + "..." : oneLine;
  }

  /** A parsed {@code .conflist}. */
  record NetworkList(Path file, String name, String cniVersion, List<ObjectNode> plugins) {

    static NetworkList read(Path file) throws CniException {
      JsonNode root;
      try {
        root = JSON.readTree(Files.readAllBytes(file));
      } catch (IOException | JacksonException e) {
        throw new CniException("cannot read the CNI network configuration list " + file + ": " + e.getMessage(), e);
      }
      if (root == null || !root.isObject()) {
        throw new CniException(-1, "CNI network configuration list " + file + " is not a JSON object");
      }
      String name = root.path("name").asString("");
      String version = root.path("cniVersion").asString("");
      if (name.isEmpty() || version.isEmpty()) {
        throw new CniException(-1, "CNI network configuration list " + file + " lacks \"name\" or \"cniVersion\"");
      }
      List<ObjectNode> plugins = new ArrayList<>();
      for (JsonNode plugin : root.path("plugins")) {
        if (!plugin.isObject() || plugin.path("type").asString("").isEmpty()) {
          throw new CniException(-1, "CNI network configuration list " + file + " has a plugin without \"type\"");
        }
        plugins.add((ObjectNode) plugin);
      }
      if (plugins.isEmpty()) {
        throw new CniException(-1, "CNI network configuration list " + file + " has no \"plugins\"");
      }
      return new NetworkList(file, name, version, List.copyOf(plugins));
    }

    /** The plugin's configuration as libcni hands it over: name, cniVersion, prevResult injected. */
    byte[] configFor(ObjectNode plugin, JsonNode prevResult) {
      ObjectNode config = plugin.deepCopy();
      config.put("name", name);
      config.put("cniVersion", cniVersion);
      if (prevResult != null) {
        config.set("prevResult", prevResult);
      } else {
        config.remove("prevResult");
      }
      return JSON.writeValueAsBytes(config);
    }
  }
}
