package dev.meshwork.e2e.cni;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Executes the installed {@code meshwork-cni} as kubelet's runtime does: a clean environment with
 * the {@code CNI_*} variables, and on stdin the conflist's plugin entry with the list's {@code
 * cniVersion} and {@code name} copied in.
 */
final class CniProcess {
  static final ObjectMapper JSON = new ObjectMapper();

  /** One execution: exit status, stdout (the CNI answer) and stderr. */
  record Run(int exit, String stdout, String stderr) {
    JsonNode json() {
      return JSON.readTree(stdout);
    }

    /** The first address of an ADD result, without its prefix length. */
    String address() {
      return json().path("ips").get(0).path("address").asString().replaceFirst("/\\d+$", "");
    }

    @Override
    public String toString() {
      return "exit " + exit + ", stdout " + stdout + ", stderr " + stderr;
    }
  }

  private final Path plugin;
  private final String config;

  CniProcess(Path plugin, Path conflist) {
    this.plugin = plugin;
    JsonNode list = JSON.readTree(readString(conflist));
    ObjectNode entry = (ObjectNode) list.path("plugins").get(0);
    entry.put("cniVersion", list.path("cniVersion").asString());
    entry.put("name", list.path("name").asString());
    this.config = JSON.writeValueAsString(entry);
  }

  private static String readString(Path file) {
    try {
      return Files.readString(file);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * Runs one verb.
   *
   * @param netns the pod's namespace path, or null (DEL after the namespace is gone)
   */
  Run run(String command, String containerId, Path netns, String podNamespace, String podName) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    env.put("MESHWORK_JAVA_HOME", System.getProperty("java.home"));
    env.put("CNI_COMMAND", command);
    env.put("CNI_CONTAINERID", containerId);
    env.put("CNI_IFNAME", "eth0");
    env.put("CNI_PATH", plugin.getParent().toString());
    if (netns != null) {
      env.put("CNI_NETNS", netns.toString());
    }
    env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + podNamespace + ";K8S_POD_NAME=" + podName);
    ProcessBuilder builder = new ProcessBuilder(plugin.toString());
    builder.environment().clear();
    builder.environment().putAll(env);
    Process process = builder.start();
    CompletableFuture<byte[]> stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
    try (var in = process.getOutputStream()) {
      in.write(config.getBytes(StandardCharsets.UTF_8));
    }
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("meshwork-cni " + command + " of " + containerId + " did not finish in 120 s");
    }
    return new Run(process.exitValue(), stdout, new String(stderr.get(), StandardCharsets.UTF_8));
  }

  private static byte[] readAll(java.io.InputStream in) {
    try {
      return in.readAllBytes();
    } catch (java.io.IOException e) {
      return new byte[0];
    }
  }
}
