package dev.meshwork.cli.clustermesh;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real etcd (Debian's /usr/bin/etcd) on loopback, serving TLS with exactly the files `meshwork
 * clustermesh ca` wrote and requiring client certificates from that CA. Stopped by its pid.
 */
final class TlsEtcdProcess implements AutoCloseable {

  private static final Path ETCD = Path.of("/usr/bin/etcd");

  private final Process process;
  private final int clientPort;
  private final Path log;

  private TlsEtcdProcess(Process process, int clientPort, Path log) {
    this.process = process;
    this.clientPort = clientPort;
    this.log = log;
  }

  static boolean available() {
    return Files.isExecutable(ETCD);
  }

  /**
   * Starts etcd and waits until it serves clients. Ports are picked free but other processes on the
   * machine may take one first: then it starts again on new ports.
   */
  static TlsEtcdProcess start(String name, Path caDir, Path workDir) throws IOException, InterruptedException {
    for (int attempt = 1; ; attempt++) {
      TlsEtcdProcess etcd = launch(name + "-" + attempt, caDir, workDir);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline) {
        String log = etcd.logText();
        if (log.contains("serving client traffic securely")) {
          return etcd;
        }
        if (!etcd.isAlive()) {
          if (log.contains("address already in use") && attempt < 5) {
            break;
          }
          throw new IllegalStateException("etcd " + name + " exited while starting:\n" + log);
        }
        Thread.sleep(20); // etcd starts in a few hundred ms
      }
      if (etcd.isAlive()) {
        etcd.close();
        throw new IllegalStateException("etcd " + name + " did not serve clients within 30 s:\n" + etcd.logText());
      }
    }
  }

  private static TlsEtcdProcess launch(String name, Path caDir, Path workDir) throws IOException {
    int clientPort = freePort();
    int peerPort = freePort();
    String clientUrl = "https://127.0.0.1:" + clientPort;
    String peerUrl = "http://127.0.0.1:" + peerPort;
    Path log = workDir.resolve(name + "-etcd.log");
    List<String> command = List.of(
        ETCD.toString(),
        "--name=" + name,
        "--data-dir=" + workDir.resolve(name + "-data"),
        "--listen-client-urls=" + clientUrl,
        "--advertise-client-urls=" + clientUrl,
        "--listen-peer-urls=" + peerUrl,
        "--initial-advertise-peer-urls=" + peerUrl,
        "--initial-cluster=" + name + "=" + peerUrl,
        "--initial-cluster-state=new",
        "--cert-file=" + caDir.resolve(CaDirectory.SERVER_CERT),
        "--key-file=" + caDir.resolve(CaDirectory.SERVER_KEY),
        "--trusted-ca-file=" + caDir.resolve(CaDirectory.CA_CERT),
        "--client-cert-auth",
        "--heartbeat-interval=50",
        "--election-timeout=500",
        "--logger=zap",
        "--log-outputs=stderr");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(key -> key.startsWith("ETCD"));
    return new TlsEtcdProcess(builder.start(), clientPort, log);
  }

  int clientPort() {
    return clientPort;
  }

  String endpoint() {
    return "https://127.0.0.1:" + clientPort;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  String logText() {
    try {
      return Files.readString(log);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
