package dev.meshwork.testing.process;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs a short host command (ip, tc, nsenter, bpftool) and collects its output (without a shell). */
public final class Command {
  /** How long a helper command may take before it is ended (by its pid) and reported. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  private Command() {}

  /** Runs the command and returns its result, whatever its exit status. */
  public static CommandResult run(String... command) {
    return run(List.of(command), DEFAULT_TIMEOUT);
  }

  /** Runs the command and returns its result; a non-zero exit throws {@link CommandFailedException}. */
  public static CommandResult check(String... command) {
    return run(command).orThrow();
  }

  public static CommandResult run(List<String> command, Duration timeout) {
    Process process;
    try {
      process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run `" + String.join(" ", command) + "`", e);
    }
    CompletableFuture<String> stdout = readAsync(process.getInputStream());
    CompletableFuture<String> stderr = readAsync(process.getErrorStream());
    try {
      if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor();
        throw new IllegalStateException("command `" + String.join(" ", command) + "` (pid " + process.pid() + ") did not finish within " + timeout);
      }
      return new CommandResult(List.copyOf(command), process.exitValue(), stdout.get(), stderr.get());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running `" + String.join(" ", command) + "`", e);
    } catch (ExecutionException e) {
      throw new UncheckedIOException("cannot read the output of `" + String.join(" ", command) + "`", new IOException(e.getCause()));
    }
  }

  private static CompletableFuture<String> readAsync(InputStream stream) {
    return CompletableFuture.supplyAsync(() -> {
      try (stream) {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }, Thread::startVirtualThread);
  }
}
