package dev.meshwork.e2e.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A child process of the sandbox (etcd, operator, agent) with its output appended to a log file
 * and its pid in the journal, so that {@code down} can end it even if the sandbox crashed.
 * Restartable: {@link #start()} after {@link #stop()} runs the same command again; with {@link
 * #restartOnExit} it is restarted when it exits on its own.
 */
public final class ManagedProcess {

  private final String name;
  private final List<String> command;
  private final Map<String, String> environment;
  private final Path log;
  private final Journal journal;
  private volatile Process process;
  private volatile String startTime;
  private volatile boolean stopping;
  private volatile int maxRestarts;
  private volatile int restarts;

  ManagedProcess(String name, List<String> command, Map<String, String> environment, Path log, Journal journal) {
    this.name = name;
    this.command = List.copyOf(command);
    this.environment = Map.copyOf(environment);
    this.log = log;
    this.journal = journal;
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public synchronized void start() throws IOException {
    if (running()) {
      throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
    }
    Files.createDirectories(log.getParent());
    Files.writeString(log, "---- " + java.time.Instant.now() + " " + String.join(" ", command) + "\n",
        java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().putAll(environment);
    Process started = builder.start();
    String start = Commands.startTime(started.pid()).orElse("0");
    journal.record("pid", Long.toString(started.pid()), start, name);
    this.process = started;
    this.startTime = start;
    this.stopping = false;
    started.onExit().thenRun(() -> restartAfterCrash(started));
  }

  /**
   * Restarts the process when it exits on its own, at most {@code max} times in all, as
   * Kubernetes restarts a crashed agent or operator pod (e.g. an API call that timed out at start
   * on a loaded machine).
   */
  public ManagedProcess restartOnExit(int max) {
    this.maxRestarts = max;
    return this;
  }

  /** How often it was restarted after exiting on its own. */
  public int restarts() {
    return restarts;
  }

  /** True when it exited on its own and will not be restarted again. */
  public boolean gaveUp() {
    return !running() && !stopping && restarts >= maxRestarts;
  }

  private void restartAfterCrash(Process exited) {
    if (stopping || exited != process || restarts >= maxRestarts) {
      return;
    }
    Commands.sleep(1000);
    synchronized (this) {
      if (stopping || exited != process) {
        return;
      }
      restarts++;
      try {
        Files.writeString(log, "---- exited with code " + exited.exitValue() + "; restart " + restarts + " of "
            + maxRestarts + "\n", java.nio.file.StandardOpenOption.APPEND);
        start();
      } catch (IOException | RuntimeException e) {
        stopping = true;
      }
    }
  }

  public boolean running() {
    Process p = process;
    return p != null && p.isAlive();
  }

  public long pid() {
    Process p = process;
    return p == null ? -1 : p.pid();
  }

  /** SIGTERM, SIGKILL after the grace period; waits until it has exited. */
  public synchronized void stop(long graceMillis) {
    stopping = true;
    Process p = process;
    if (p == null) {
      return;
    }
    Commands.stop(p.pid(), startTime, graceMillis);
    try {
      p.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Kills it at once (a crash): SIGKILL to its pid; it is not restarted until {@link #start()}. */
  public synchronized void kill() {
    stopping = true;
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      try {
        p.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** The last lines of its log, for error messages. */
  public String tail(int lines) {
    try {
      // Stack frames say little in a one-line error: keep the messages.
      List<String> all = Files.readAllLines(log, java.nio.charset.StandardCharsets.ISO_8859_1).stream()
          .filter(l -> !l.matches("\\s+at .*") && !l.matches("\\s+\\.\\.\\. \\d+ more"))
          .toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(no log at " + log + ")";
    }
  }

  @Override
  public String toString() {
    return name + (running() ? " (pid " + pid() + ")" : " (stopped)");
  }
}
