package dev.meshwork.cni;

import dev.meshwork.testing.cni.FakeCniAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds meshwork-cni's AOT cache at package time (run by the pom through exec:java): starts a
 * fake agent in this JVM and runs the packaged plugin once, as kubelet would, with
 * {@code -XX:AOTCacheOutput}. The JVM records the classes that ADD loads and links, so that the
 * launcher's later runs start with them ready ({@code -XX:AOTCache}, JEP 483/514).
 *
 * <p>Arguments: java executable, plugin jar, cache file to write.
 */
public final class AotTraining {

  private AotTraining() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      throw new IllegalArgumentException("usage: AotTraining <java> <plugin jar> <cache file>");
    }
    String java = args[0];
    Path jar = Path.of(args[1]);
    Path cache = Path.of(args[2]);
    Path dir = Files.createTempDirectory("mwcni-aot");
    Path socket = dir.resolve("agent.sock");
    try (FakeCniAgent agent = FakeCniAgent.start(socket)) {
      Files.deleteIfExists(cache);
      String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\",\"type\":\"meshwork-cni\","
          + "\"agent-socket\":\"" + socket + "\",\"mtu\":1450}";
      List<String> command = new ArrayList<>(List.of(java, "-XX:AOTCacheOutput=" + cache,
          // The flags of bin/meshwork-cni, so that the cache matches the runs that use it.
          "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
          "-Xlog:disable", "-Xlog:all=error:stderr", "-jar", jar.toString()));
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().put("CNI_COMMAND", "ADD");
      pb.environment().put("CNI_CONTAINERID", "aot-training");
      pb.environment().put("CNI_NETNS", "/var/run/netns/aot-training");
      pb.environment().put("CNI_IFNAME", "eth0");
      pb.environment().put("CNI_ARGS", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=aot-training");
      pb.environment().put("CNI_PATH", "/opt/cni/bin");
      pb.redirectError(ProcessBuilder.Redirect.INHERIT);
      Process process = pb.start();
      process.getOutputStream().write(config.getBytes(StandardCharsets.UTF_8));
      process.getOutputStream().close();
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IllegalStateException("training run did not finish in 120 s");
      }
      if (process.exitValue() != 0 || !out.contains("10.244.1.")) {
        throw new IllegalStateException(
            "training ADD failed (exit " + process.exitValue() + "): " + out);
      }
      if (!Files.exists(cache)) {
        throw new IllegalStateException("the JVM wrote no AOT cache at " + cache);
      }
      System.out.println("meshwork-cni AOT cache: " + cache + " (" + Files.size(cache) / 1024
          + " KiB)");
    } finally {
      deleteQuietly(dir);
    }
  }

  private static void deleteQuietly(Path dir) throws IOException {
    try (var files = Files.list(dir)) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
    }
    Files.deleteIfExists(dir);
  }
}
