package dev.meshwork.e2e.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A Meshwork binary run as its own process through {@code bin/launch <module>} (the module's jar
 * from {@code ./mvnw package}), so a test can SIGKILL it. Output goes to {@code <module>-N.log} in
 * the given directory. Ended by its own pid only.
 */
final class MeshworkProcess implements AutoCloseable {
  static final Path ROOT = findRoot();

  private final String module;
  private final List<String> args;
  private final Map<String, String> environment;
  private final Path logDir;
  private Process process;
  private int starts;

  MeshworkProcess(String module, List<String> args, Map<String, String> environment, Path logDir) {
    this.module = module;
    this.args = List.copyOf(args);
    this.environment = Map.copyOf(environment);
    this.logDir = logDir;
  }

  private static Path findRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isRegularFile(dir.resolve("bin/launch"))) dir = dir.getParent();
    if (dir == null) throw new IllegalStateException("bin/launch not found above " + Path.of("").toAbsolutePath());
    return dir;
  }

  /** Fails with the command to run when the module's jar is not built. */
  static void requireBuilt(String module) throws IOException {
    try (var files = Files.list(ROOT.resolve(module).resolve("target"))) {
      if (files.noneMatch(f -> f.getFileName().toString().matches("meshwork-" + module + "-.*\\.jar"))) {
        throw new IllegalStateException(module + " is not packaged; run ./mvnw -B -ntp package -DskipTests -pl " + module + " -am");
      }
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalStateException(module + " is not built; run ./mvnw -B -ntp package -DskipTests -pl " + module + " -am", e);
    }
  }

  synchronized MeshworkProcess start() throws IOException {
    if (process != null && process.isAlive()) throw new IllegalStateException(module + " already running, pid " + process.pid());
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("bin/launch").toString());
    command.add(module);
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(logDir.resolve(module + "-" + (++starts) + ".log").toFile());
    builder.environment().putAll(environment);
    builder.environment().putIfAbsent("MESHWORK_JAVA_OPTS", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m");
    process = builder.start();
    return this;
  }

  long pid() {
    return process.pid();
  }

  /** SIGKILL, like a crash or an OOM kill: no shutdown hook runs. */
  synchronized void kill() throws InterruptedException {
    // bin/launch execs java, so the pid is the JVM's.
    process.destroyForcibly();
    if (!process.waitFor(10, TimeUnit.SECONDS)) throw new IllegalStateException(module + " survived SIGKILL, pid " + process.pid());
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  String log() throws IOException {
    return Files.readString(logDir.resolve(module + "-" + starts + ".log"));
  }

  @Override
  public synchronized void close() throws InterruptedException {
    if (process == null || !process.isAlive()) return;
    process.destroy();
    if (!process.waitFor(15, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
  }
}
