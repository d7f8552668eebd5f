package dev.meshwork.testing.etcd;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-member etcd ({@code /usr/bin/etcd}, Debian's etcd-server 3.4) for integration
 * tests, on free loopback ports with a temporary data directory.
 *
 * <p>As a JUnit 5 extension it starts before all tests and stops after them when registered on a
 * static field, and runs per test when registered on an instance field:
 *
 * <pre>{@code
 * @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();
 * @RegisterExtension static final EtcdExtension secure = EtcdExtension.tls();
 * }</pre>
 *
 * A test can {@link #stop()}, {@link #start()} (same ports and data), {@link #restart()}, {@link
 * #kill()} (a crash), {@link #compact()} or {@link #wipe()} it (an empty etcd with a new cluster id
 * on the same port), or {@link #pause()} it (a hung server). A class-wide etcd a test left stopped
 * or paused is started or resumed before the next test.
 * Outside JUnit, call {@link #start()} and {@link #close()} directly.
 *
 * <p>The process is ended by its pid only; its output goes to {@code etcd.log} in its temp
 * directory, and the tail of that log is printed when it fails to start.
 */
public final class EtcdExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EtcdExtension.class);
  private static final Path ETCD = Path.of("/usr/bin/etcd");
  private static final Path ETCDCTL = Path.of("/usr/bin/etcdctl");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
  private static final int PORT_ATTEMPTS = 5;
  private static final Pattern REVISION = Pattern.compile("\"revision\":\"?(\\d+)");
  private static final Pattern CLUSTER_ID = Pattern.compile("\"cluster_id\":\"?(\\d+)");
  private static final Pattern VALUE = Pattern.compile("\"value\":\"([A-Za-z0-9+/=]*)\"");
  /** Every etcd still running in this JVM, ended by pid if the JVM exits without closing them. */
  private static final Set<EtcdExtension> RUNNING = ConcurrentHashMap.newKeySet();

  static {
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("etcd-extension-cleanup").unstarted(() -> {
      for (EtcdExtension etcd : RUNNING) {
        Process process = etcd.process;
        if (process != null) {
          process.destroyForcibly();
        }
      }
    }));
  }

  private enum Scope { CLASS, METHOD }

  private final boolean tlsEnabled;
  private final String name;
  private final List<String> extraArgs = new ArrayList<>();
  private Path directory;
  private Path dataDir;
  private Path logFile;
  private int clientPort;
  private int peerPort;
  private int generation;
  /** Server files given by the caller ({@link #tls(ServerTlsFiles, TlsFiles)}), or null to generate a CA. */
  private final ServerTlsFiles givenServer;
  private final TlsFiles givenClient;
  private TestCertificates certificates;
  private IssuedCertificate clientCertificate;
  private ServerTlsFiles serverFiles;
  private TlsFiles clientFiles;
  private HttpClient http;
  private volatile Process process;
  private volatile boolean paused;
  private Scope scope;
  private int classDepth;

  private EtcdExtension(boolean tlsEnabled) {
    this(tlsEnabled, null, null);
  }

  private EtcdExtension(boolean tlsEnabled, ServerTlsFiles givenServer, TlsFiles givenClient) {
    this.tlsEnabled = tlsEnabled;
    this.givenServer = givenServer;
    this.givenClient = givenClient;
    this.name = "mwt-etcd-" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
  }

  /** An etcd serving plain HTTP/gRPC on loopback. */
  public static EtcdExtension plain() {
    return new EtcdExtension(false);
  }

  /**
   * An etcd serving TLS with a server certificate from a generated CA and requiring client
   * certificates from that CA ({@code --client-cert-auth}). {@link #tlsFiles()} has a valid client
   * certificate; {@link #certificates()} issues more.
   */
  public static EtcdExtension tls() {
    return new EtcdExtension(true);
  }

  /**
   * An etcd serving TLS with the caller's files, e.g. those a CA command under test wrote. It
   * requires client certificates signed by {@code server.caCert()}; {@code client} is a valid client
   * the extension uses for its own calls (health, put, compact) and hands out in {@link #tlsFiles()}.
   * The files must exist when etcd starts; keys may be PKCS#8, PKCS#1 or SEC 1 PEM.
   */
  public static EtcdExtension tls(ServerTlsFiles server, TlsFiles client) {
    return new EtcdExtension(true, server, client);
  }

  /** Adds etcd flags (e.g. {@code --auto-compaction-retention=1}); before the first start only. */
  public synchronized EtcdExtension withArgs(String... args) {
    if (directory != null) {
      throw new IllegalStateException("etcd " + name + ": add flags before it starts");
    }
    extraArgs.addAll(List.of(args));
    return this;
  }

  // ---- JUnit ----------------------------------------------------------------------------------

  @Override
  public synchronized void beforeAll(ExtensionContext context) {
    if (classDepth++ == 0) {
      scope = Scope.CLASS;
      start();
    }
  }

  @Override
  public synchronized void afterAll(ExtensionContext context) {
    if (--classDepth == 0 && scope == Scope.CLASS) {
      scope = null;
      close();
    }
  }

  @Override
  public synchronized void beforeEach(ExtensionContext context) {
    if (scope == null) {
      scope = Scope.METHOD;
    }
    if (paused) {
      resume(); // a test left its class-wide etcd frozen
    }
    if (!isRunning()) {
      start();
    }
  }

  @Override
  public synchronized void afterEach(ExtensionContext context) {
    if (scope == Scope.METHOD) {
      scope = null;
      close();
    }
  }

  // ---- addresses and files --------------------------------------------------------------------

  /** The client URL, e.g. {@code http://127.0.0.1:34567} or {@code https://127.0.0.1:34567}. */
  public synchronized String endpoint() {
    requirePrepared();
    return (tlsEnabled ? "https" : "http") + "://127.0.0.1:" + clientPort;
  }

  public List<String> endpoints() {
    return List.of(endpoint());
  }

  public synchronized int clientPort() {
    requirePrepared();
    return clientPort;
  }

  /** This etcd's member name, unique per extension: {@code mwt-etcd-<hex>}. */
  public String name() {
    return name;
  }

  /** The CA file and a valid client certificate for a TLS etcd; empty for a plain one. */
  public synchronized Optional<TlsFiles> tlsFiles() {
    if (!tlsEnabled) {
      return Optional.empty();
    }
    requirePrepared();
    return Optional.of(clientFiles);
  }

  public boolean isTls() {
    return tlsEnabled;
  }

  /**
   * The CA of a TLS etcd, to issue more client certificates (e.g. {@code certificates().client("agent")});
   * for negative tests, create another CA with {@link TestCertificates#create}.
   */
  public synchronized TestCertificates certificates() {
    if (!tlsEnabled) {
      throw new IllegalStateException("etcd " + name + " runs without TLS: use EtcdExtension.tls()");
    }
    if (givenServer != null) {
      throw new IllegalStateException("etcd " + name + " serves the caller's certificates: there is no generated CA");
    }
    requirePrepared();
    return certificates;
  }

  /** The client certificate of {@link #tlsFiles()} (only for the generated CA of {@link #tls()}). */
  public synchronized IssuedCertificate clientCertificate() {
    certificates();
    return clientCertificate;
  }

  public synchronized Path dataDir() {
    requirePrepared();
    return dataDir;
  }

  /** etcd's combined stdout and stderr across starts. */
  public synchronized Path logFile() {
    requirePrepared();
    return logFile;
  }

  /** The pid of the running etcd. */
  public int pid() {
    Process running = process;
    if (running == null || !running.isAlive()) {
      throw new IllegalStateException("etcd " + name + " is not running");
    }
    return Math.toIntExact(running.pid());
  }

  public boolean isRunning() {
    Process running = process;
    return running != null && running.isAlive();
  }

  // ---- control --------------------------------------------------------------------------------

  /**
   * Starts etcd (on the first call: picks free ports, creates the data directory and, for TLS, the
   * certificates) and waits until it reports healthy. Later calls reuse the ports and the data.
   * Does nothing when it is already running.
   */
  public synchronized void start() {
    if (isRunning()) {
      return;
    }
    if (directory == null) {
      prepare();
      for (int attempt = 1; ; attempt++) {
        try {
          launch();
          return;
        } catch (PortInUseException e) {
          if (attempt == PORT_ATTEMPTS) {
            throw new IllegalStateException("etcd " + name + ": no free ports after " + attempt + " attempts", e);
          }
          log.debug("etcd {}: port taken, trying others", name);
          pickPorts();
        }
      }
    }
    launch();
  }

  /** Stops etcd gracefully (SIGTERM, then SIGKILL after 10 s) and waits until its pid is gone. Keeps the data. */
  public synchronized void stop() {
    Process running = process;
    if (running == null) {
      return;
    }
    if (paused) {
      resume();
    }
    running.destroy();
    try {
      if (!running.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        log.warn("etcd {} (pid {}) did not stop within {}; killing it", name, running.pid(), STOP_TIMEOUT);
        running.destroyForcibly();
        running.waitFor();
      }
    } catch (InterruptedException e) {
      running.destroyForcibly();
      Thread.currentThread().interrupt();
    } finally {
      process = null;
      paused = false;
      RUNNING.remove(this);
    }
  }

  /** Ends etcd with SIGKILL, like a crash, and waits until its pid is gone. Keeps the data. */
  public synchronized void kill() {
    Process running = process;
    if (running == null) {
      return;
    }
    running.destroyForcibly();
    try {
      running.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      process = null;
      paused = false;
      RUNNING.remove(this);
    }
  }

  /**
   * Freezes etcd with SIGSTOP: its port stays open but nothing answers, like a hung or partitioned
   * server (clients time out instead of being refused). {@link #resume()} thaws it.
   */
  public synchronized void pause() {
    signal("STOP");
    paused = true;
  }

  /** Thaws an etcd frozen by {@link #pause()} (SIGCONT). */
  public synchronized void resume() {
    signal("CONT");
    paused = false;
  }

  public boolean isPaused() {
    return paused;
  }

  private void signal(String signal) {
    Command.run("kill", "-" + signal, Integer.toString(pid())).orThrow();
  }

  public synchronized void restart() {
    stop();
    start();
  }

  /**
   * Stops etcd, deletes its data and starts an empty etcd on the same port: a new cluster with a new
   * cluster id and revisions starting again at 1, as after losing its disk.
   */
  public synchronized void wipe() {
    requirePrepared();
    stop();
    deleteRecursively(dataDir);
    generation++;
    launch();
  }

  /** Compacts the history at the current revision (physically) and returns that revision. */
  public synchronized long compact() {
    long revision = revision();
    HttpResponse<String> response = post("/v3/kv/compaction", "{\"revision\":\"" + revision + "\",\"physical\":true}");
    if (response.statusCode() != 200 && !response.body().contains("compacted")) {
      throw new IllegalStateException("etcd " + name + ": compaction at revision " + revision + " failed: " + response.body());
    }
    return revision;
  }

  /** The current revision of the store. */
  public long revision() {
    return parseLong(REVISION, postOk("/v3/maintenance/status", "{}"), "revision");
  }

  /** The etcd cluster id (as jetcd's {@code ResponseHeader.getClusterId()}: unsigned bits in a long). */
  public long clusterId() {
    return parseLong(CLUSTER_ID, postOk("/v3/maintenance/status", "{}"), "cluster_id");
  }

  /** Writes a key directly (e.g. a corrupt value a reader must skip); returns the new revision. */
  public long put(String key, byte[] value) {
    String body = postOk("/v3/kv/put", "{\"key\":\"" + base64(key.getBytes(StandardCharsets.UTF_8)) + "\",\"value\":\"" + base64(value) + "\"}");
    return parseLong(REVISION, body, "revision");
  }

  public long put(String key, String value) {
    return put(key, value.getBytes(StandardCharsets.UTF_8));
  }

  /** Reads one key directly. */
  public Optional<byte[]> get(String key) {
    String body = postOk("/v3/kv/range", "{\"key\":\"" + base64(key.getBytes(StandardCharsets.UTF_8)) + "\"}");
    if (!body.contains("\"kvs\"")) {
      return Optional.empty();
    }
    Matcher value = VALUE.matcher(body);
    return Optional.of(value.find() ? Base64.getDecoder().decode(value.group(1)) : new byte[0]);
  }

  /** Deletes one key directly. */
  public void delete(String key) {
    postOk("/v3/kv/deleterange", "{\"key\":\"" + base64(key.getBytes(StandardCharsets.UTF_8)) + "\"}");
  }

  /** Runs {@code etcdctl} against this etcd (with its TLS client certificate when it has TLS). */
  public CommandResult etcdctl(String... args) {
    List<String> command = new ArrayList<>(List.of(ETCDCTL.toString(), "--endpoints=" + endpoint(), "--command-timeout=10s"));
    tlsFiles().ifPresent(files -> command.addAll(List.of(
        "--cacert=" + files.caCert(), "--cert=" + files.clientCert(), "--key=" + files.clientKey())));
    command.addAll(List.of(args));
    return Command.run(command, Duration.ofSeconds(30));
  }

  /** Stops etcd and deletes its temp directory (data, log, certificates). */
  @Override
  public synchronized void close() {
    stop();
    if (http != null) {
      http.close();
      http = null;
    }
    if (directory != null) {
      deleteRecursively(directory);
      directory = null;
    }
  }

  @Override
  public String toString() {
    return "etcd " + name + (directory == null ? " (not started)" : " at " + endpoint());
  }

  // ---- internals ------------------------------------------------------------------------------

  private void prepare() {
    if (!Files.isExecutable(ETCD)) {
      throw new IllegalStateException(ETCD + " is missing: install it with `apt-get install -y etcd-server etcd-client`");
    }
    try {
      directory = Files.createTempDirectory(name + "-");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a temp directory for etcd " + name, e);
    }
    dataDir = directory.resolve("data");
    logFile = directory.resolve("etcd.log");
    if (tlsEnabled && givenServer == null) {
      certificates = TestCertificates.create(directory.resolve("certs"), name + "-ca");
      IssuedCertificate server = certificates.server("server");
      clientCertificate = certificates.client("client");
      serverFiles = new ServerTlsFiles(certificates.caCertFile(), server.certFile(), server.keyFile());
      clientFiles = new TlsFiles(certificates.caCertFile(), clientCertificate.certFile(), clientCertificate.keyFile());
    } else if (tlsEnabled) {
      serverFiles = givenServer;
      clientFiles = givenClient;
    }
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).version(HttpClient.Version.HTTP_1_1);
    if (tlsEnabled) {
      builder.sslContext(TestCertificates.sslContext(clientFiles.caCert(), clientFiles.clientCert(), clientFiles.clientKey()));
    }
    http = builder.build();
    pickPorts();
  }

  private void pickPorts() {
    clientPort = freePort();
    do {
      peerPort = freePort();
    } while (peerPort == clientPort);
  }

  private void launch() {
    String scheme = tlsEnabled ? "https" : "http";
    String clientUrl = scheme + "://127.0.0.1:" + clientPort;
    String peerUrl = "http://127.0.0.1:" + peerPort;
    List<String> command = new ArrayList<>(List.of(
        ETCD.toString(),
        "--name=" + name,
        "--data-dir=" + dataDir,
        "--listen-client-urls=" + clientUrl,
        "--advertise-client-urls=" + clientUrl,
        "--listen-peer-urls=" + peerUrl,
        "--initial-advertise-peer-urls=" + peerUrl,
        "--initial-cluster=" + name + "=" + peerUrl,
        // the token is part of the cluster id: a wiped etcd must come back as a different cluster
        "--initial-cluster-token=" + name + "-" + generation,
        "--initial-cluster-state=new",
        "--logger=zap",
        "--log-outputs=stderr",
        "--heartbeat-interval=10",
        "--election-timeout=100"));
    if (tlsEnabled) {
      command.addAll(List.of(
          "--cert-file=" + serverFiles.serverCert(),
          "--key-file=" + serverFiles.serverKey(),
          "--trusted-ca-file=" + serverFiles.caCert(),
          "--client-cert-auth"));
    }
    command.addAll(extraArgs);
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    builder.environment().keySet().removeIf(key -> key.startsWith("ETCD"));
    long logOffset;
    try {
      logOffset = Files.exists(logFile) ? Files.size(logFile) : 0;
      Files.writeString(logFile, "\n=== meshwork test: starting etcd " + name + " (" + String.join(" ", command) + ")\n",
          java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
      process = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + ETCD, e);
    }
    RUNNING.add(this);
    long begin = System.nanoTime();
    awaitHealthy(logOffset);
    log.info("etcd {} (pid {}) healthy at {} in {} ms", name, process.pid(), clientUrl, (System.nanoTime() - begin) / 1_000_000);
  }

  private void awaitHealthy(long logOffset) {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    URI health = URI.create(endpoint() + "/health");
    String lastProblem = "no answer yet";
    while (System.nanoTime() < deadline) {
      Process running = process;
      if (!running.isAlive()) {
        process = null;
        RUNNING.remove(this);
        String tail = logTail(logOffset);
        if (tail.contains("address already in use")) {
          throw new PortInUseException("etcd " + name + " cannot bind 127.0.0.1:" + clientPort + " or :" + peerPort
              + ": another process took the port; log tail:\n" + tail);
        }
        System.err.println("etcd " + name + " exited with " + running.exitValue() + " while starting; log tail:\n" + tail);
        throw new IllegalStateException("etcd " + name + " exited with " + running.exitValue() + " while starting; log tail:\n" + tail);
      }
      try {
        HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(health).timeout(Duration.ofSeconds(2)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 200 && response.body().contains("\"health\":\"true\"")) {
          return;
        }
        lastProblem = "HTTP " + response.statusCode() + " " + response.body();
      } catch (ConnectException e) {
        lastProblem = "connection refused";
      } catch (IOException e) {
        lastProblem = e.toString();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
        throw new IllegalStateException("interrupted while waiting for etcd " + name, e);
      }
      try {
        Thread.sleep(10); // polling interval: etcd starts in a few hundred ms
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
        throw new IllegalStateException("interrupted while waiting for etcd " + name, e);
      }
    }
    String tail = logTail(logOffset);
    kill();
    System.err.println("etcd " + name + " not healthy after " + START_TIMEOUT + " (" + lastProblem + "); log tail:\n" + tail);
    throw new IllegalStateException("etcd " + name + " not healthy after " + START_TIMEOUT + " (" + lastProblem + "); log tail:\n" + tail);
  }

  private String postOk(String path, String json) {
    HttpResponse<String> response = post(path, json);
    if (response.statusCode() != 200) {
      throw new IllegalStateException("etcd " + name + ": POST " + path + " answered " + response.statusCode() + ": " + response.body());
    }
    return response.body();
  }

  private HttpResponse<String> post(String path, String json) {
    HttpClient client;
    synchronized (this) {
      requirePrepared();
      client = http;
    }
    try {
      return client.send(
          HttpRequest.newBuilder(URI.create(endpoint() + path)).timeout(Duration.ofSeconds(10))
              .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("etcd " + name + ": POST " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while calling etcd " + name, e);
    }
  }

  private long parseLong(Pattern pattern, String body, String field) {
    Matcher matcher = pattern.matcher(body);
    if (!matcher.find()) {
      throw new IllegalStateException("etcd " + name + ": no " + field + " in " + body);
    }
    return Long.parseUnsignedLong(matcher.group(1));
  }

  private String logTail(long fromOffset) {
    try {
      byte[] bytes = Files.readAllBytes(logFile);
      String text = new String(bytes, (int) Math.min(fromOffset, bytes.length), (int) Math.max(0, bytes.length - fromOffset), StandardCharsets.UTF_8);
      List<String> lines = text.lines().toList();
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(cannot read " + logFile + ": " + e.getMessage() + ")";
    }
  }

  private void requirePrepared() {
    if (directory == null) {
      throw new IllegalStateException("etcd " + name + " has not been started");
    }
  }

  private static String base64(byte[] bytes) {
    return Base64.getEncoder().encodeToString(bytes);
  }

  /**
   * A free loopback port below the kernel's ephemeral range, so that while etcd is stopped the
   * port is not handed out to an outgoing connection or to a {@code bind(0)} elsewhere and the
   * restart can bind it again. Falls back to an ephemeral port.
   */
  private static int freePort() {
    int low = 20_000;
    int high = ephemeralRangeStart() - 1;
    if (high - low > 1_000) {
      for (int attempt = 0; attempt < 50; attempt++) {
        int port = ThreadLocalRandom.current().nextInt(low, high + 1);
        try (ServerSocket socket = new ServerSocket()) {
          socket.setReuseAddress(false);
          socket.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
          return port;
        } catch (IOException taken) {
          // try another
        }
      }
    }
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  private static int ephemeralRangeStart() {
    try {
      return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).getFirst().trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 32_768;
    }
  }

  private static void deleteRecursively(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try {
      Files.walkFileTree(root, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          Files.delete(file);
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
          Files.delete(dir);
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  /** etcd could not bind a port another process took between our probe and its start. */
  private static final class PortInUseException extends IllegalStateException {
    PortInUseException(String message) {
      super(message);
    }
  }
}
