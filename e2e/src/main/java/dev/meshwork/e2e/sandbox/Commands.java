package dev.meshwork.e2e.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Short host commands (`ip`, `etcdctl`) and processes identified by pid and start time. */
final class Commands {
  private Commands() {}

  /** Runs a command to completion; a non-zero exit throws with the command and its output. */
  static String run(String... command) throws IOException {
    return run(List.of(command));
  }

  static String run(List<String> command) throws IOException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    process.getOutputStream().close();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException("`" + String.join(" ", command) + "` did not finish within 60 s");
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while running `" + String.join(" ", command) + "`", e);
    }
    if (process.exitValue() != 0) {
      throw new IOException("`" + String.join(" ", command) + "` failed (exit " + process.exitValue() + "): "
          + output.strip());
    }
    return output;
  }

  /** Like {@link #run} but ignores failures (cleanup of something that may be gone). */
  static void runQuietly(String... command) {
    try {
      run(command);
    } catch (IOException e) {
      // already gone, or never created
    }
  }

  /** The start time of a process (field 22 of /proc/PID/stat), empty if it does not exist. */
  static Optional<String> startTime(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // The command name (field 2) may hold spaces; fields after its closing parenthesis are plain.
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return Optional.of(fields[19]);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /** True while the process with this pid and start time runs (a reused pid does not count). */
  static boolean alive(long pid, String startTime) {
    return startTime(pid).map(startTime::equals).orElse(false)
        && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)
        && !zombie(pid);
  }

  private static boolean zombie(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      return stat.substring(stat.lastIndexOf(')') + 2).startsWith("Z");
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * Ends the process with this pid and start time: SIGTERM, then SIGKILL after {@code graceMillis}.
   * Returns false if it was not running.
   */
  static boolean stop(long pid, String startTime, long graceMillis) {
    if (!alive(pid, startTime)) {
      return false;
    }
    ProcessHandle handle = ProcessHandle.of(pid).orElse(null);
    if (handle == null) {
      return false;
    }
    handle.destroy();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
    while (System.nanoTime() < deadline && alive(pid, startTime)) {
      sleep(50);
    }
    if (alive(pid, startTime)) {
      handle.destroyForcibly();
      long killDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < killDeadline && alive(pid, startTime)) {
        sleep(50);
      }
    }
    return true;
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
