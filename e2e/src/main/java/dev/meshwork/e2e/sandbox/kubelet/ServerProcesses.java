package dev.meshwork.e2e.sandbox.kubelet;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Stopping server processes by pid, also after a restart (the start time guards against pid reuse). */
final class ServerProcesses {

  private static final Duration GRACE = Duration.ofSeconds(2);

  private ServerProcesses() {}

  /** Field 22 of {@code /proc/<pid>/stat}: the start time in clock ticks since boot; empty if gone. */
  static Optional<String> startTime(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
      String[] rest = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Optional.of(rest[22 - 3]);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** Stops the process if it still is the one recorded (same pid and start time): TERM, then KILL. */
  static void stop(long pid, String recordedStartTime) {
    Optional<String> started = startTime(pid);
    if (started.isEmpty() || !started.get().equals(recordedStartTime)) {
      return;
    }
    ProcessHandle.of(pid).ifPresent(ServerProcesses::stop);
  }

  static void stop(ProcessHandle process) {
    process.destroy();
    try {
      process.onExit().get(GRACE.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      process.destroyForcibly();
      try {
        process.onExit().get(GRACE.toMillis(), TimeUnit.MILLISECONDS);
      } catch (Exception ignored) {
        // reported by the caller's check that nothing is left
      }
    }
  }
}
