package dev.meshwork.testing.netns;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandFailedException;
import dev.meshwork.testing.process.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A named network namespace ({@code /run/netns/NAME}) created by {@link NetworkNamespaces}.
 * Closing it deletes it by its exact name.
 */
public final class NetworkNamespace implements AutoCloseable {
  private final String name;
  private volatile boolean deleted;

  NetworkNamespace(String name) {
    this.name = name;
  }

  public String name() {
    return name;
  }

  /** {@code /run/netns/NAME}: for {@code nsenter --net=}, setns(2) or a CNI {@code CNI_NETNS}. */
  public Path path() {
    return Path.of("/run/netns", name);
  }

  /**
   * Runs a command in the namespace with {@code ip netns exec}. That remounts {@code /sys} privately
   * and hides {@code /sys/fs/bpf}: use {@link #nsenter} for anything that pins BPF objects.
   */
  public CommandResult exec(String... command) {
    return Command.run(prefixed(List.of("ip", "netns", "exec", name), command), Command.DEFAULT_TIMEOUT);
  }

  /** Like {@link #exec} but a non-zero exit throws {@link CommandFailedException}. */
  public CommandResult execOrThrow(String... command) {
    return exec(command).orThrow();
  }

  /** Runs a command in the namespace with {@code nsenter --net=/run/netns/NAME}; bpffs stays visible. */
  public CommandResult nsenter(String... command) {
    return Command.run(prefixed(List.of("nsenter", "--net=" + path()), command), Command.DEFAULT_TIMEOUT);
  }

  /** Like {@link #nsenter} but a non-zero exit throws {@link CommandFailedException}. */
  public CommandResult nsenterOrThrow(String... command) {
    return nsenter(command).orThrow();
  }

  /** Runs {@code ip -batch -} in the namespace: many {@code ip} commands for one process start. */
  public CommandResult ipBatch(List<String> commands) {
    Path script;
    try {
      script = Files.createTempFile("mwt-ip-batch-", ".txt");
      Files.writeString(script, String.join("\n", commands) + "\n");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    try {
      return Command.run(List.of("ip", "-n", name, "-batch", script.toString()), Command.DEFAULT_TIMEOUT);
    } finally {
      try {
        Files.deleteIfExists(script);
      } catch (java.io.IOException ignored) {
        // a temp file left behind is harmless
      }
    }
  }

  public boolean exists() {
    return Files.exists(path());
  }

  /** Deletes the namespace (by its exact name); idempotent. */
  @Override
  public void close() {
    if (deleted) {
      return;
    }
    deleted = true;
    if (exists()) {
      Command.run("ip", "netns", "delete", name).orThrow();
    }
  }

  @Override
  public String toString() {
    return "netns " + name;
  }

  private static List<String> prefixed(List<String> prefix, String... command) {
    List<String> all = new ArrayList<>(prefix);
    all.addAll(List.of(command));
    return all;
  }
}
