package dev.meshwork.e2e.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A child process of the sandbox (etcd, operator, agent) with its output appended to a log file
 * and its pid in the journal, so that {@code down} can end it even if the sandbox crashed.
 * Restartable: {@link #start()} after {@link #stop()} runs the same command again.
 */
public final class ManagedProcess {

  private final String name;
  private final List<String> command;
  private final Map<String, String> environment;
  private final Path log;
  private final Journal journal;
  private volatile Process process;
  private volatile String startTime;

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

  /** Kills it at once (a crash). */
  public synchronized void kill() {
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
      List<String> all = Files.readAllLines(log);
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
