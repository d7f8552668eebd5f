package dev.meshwork.e2e.blog;

import dev.meshwork.e2e.sandbox.kubelet.PodRecord;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A TCP connection from a frontend pod straight to a backend pod's IP, to an echo server in that pod. */
public final class EchoConnection implements AutoCloseable {
  private final Process server;
  private final Process client;
  private final BufferedReader in;
  private final OutputStream out;

  private EchoConnection(Process server, Process client) {
    this.server = server;
    this.client = client;
    this.in = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8));
    this.out = client.getOutputStream();
  }

  /**
   * Starts the echo server ({@code busybox nc -ll -e cat}) in the backend pod's namespace on
   * {@code port} and connects to it from the frontend pod.
   */
  public static EchoConnection open(PodRecord backend, PodRecord frontend, int port) throws Exception {
    Process server = new ProcessBuilder("ip", "netns", "exec", backend.netns(), "busybox", "nc", "-ll", "-p",
        Integer.toString(port), "-e", "/bin/cat").redirectErrorStream(true).start();
    Thread.sleep(300);
    Process client = new ProcessBuilder("ip", "netns", "exec", frontend.netns(), "busybox", "nc", backend.ip(),
        Integer.toString(port)).redirectErrorStream(true).start();
    return new EchoConnection(server, client);
  }

  /** Writes a line; the future completes with the line echoed back. */
  public CompletableFuture<String> send(String line) throws Exception {
    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
    return CompletableFuture.supplyAsync(() -> {
      try {
        return in.readLine();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
  }

  public String roundTrip(String line, Duration timeout) throws Exception {
    return send(line).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() throws InterruptedException {
    client.destroyForcibly().waitFor();
    server.destroyForcibly().waitFor();
  }
}
