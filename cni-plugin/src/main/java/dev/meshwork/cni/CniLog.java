package dev.meshwork.cni;

import dev.meshwork.cni.spec.NetworkConfig.LogLevel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * The plugin's log: one line per event appended to the configured {@code log-file}.
 *
 * <p>kubelet keeps stdout for the result and shows stderr only on failure, and the plugin is
 * started once per pod, so it uses neither stderr nor a logging framework (whose start-up would
 * cost more than the whole call). Lines carry the container id so that concurrent invocations
 * (each its own process, appending with O_APPEND) can be told apart. Logging never fails an
 * invocation.
 */
final class CniLog {

  private final Path file;
  private final LogLevel level;
  private String context = "";

  private CniLog(Path file, LogLevel level) {
    this.file = file;
    this.level = level;
  }

  /** A log that drops everything (no {@code log-file} configured, or not yet known). */
  static CniLog none() {
    return new CniLog(null, LogLevel.ERROR);
  }

  static CniLog to(String file, LogLevel level) {
    return file == null || file.isEmpty() ? none() : new CniLog(Path.of(file), level);
  }

  /** Fields prefixed to every line, e.g. {@code ADD container=abc ifname=eth0}. */
  void context(String context) {
    this.context = context;
  }

  boolean enabled(LogLevel at) {
    return file != null && level.enables(at);
  }

  void error(String message) {
    log(LogLevel.ERROR, message);
  }

  void warn(String message) {
    log(LogLevel.WARN, message);
  }

  void info(String message) {
    log(LogLevel.INFO, message);
  }

  void debug(String message) {
    log(LogLevel.DEBUG, message);
  }

  void log(LogLevel at, String message) {
    if (!enabled(at)) {
      return;
    }
    String line = Instant.now() + " " + at + " pid=" + ProcessHandle.current().pid() + " "
        + context + (context.isEmpty() ? "" : " ") + message + "\n";
    try {
      Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND, StandardOpenOption.WRITE);
    } catch (IOException | RuntimeException e) {
      // A full disk or a missing directory must not turn a working ADD into a failed pod.
    }
  }
}
