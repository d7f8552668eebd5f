package dev.meshwork.bench.scenario;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Operation counts read from an etcd's Prometheus endpoint ({@code <client-url>/metrics}):
 * unary gRPC calls by method (each is one client round trip) and WAL fsyncs. Unlike timings,
 * these do not depend on how loaded the machine is.
 */
public record EtcdMetrics(Map<String, Long> callsByMethod, long walFsyncs, long backendCommits) {

  private static final Pattern HANDLED =
      Pattern.compile("^grpc_server_handled_total\\{([^}]*)\\} (\\S+)$", Pattern.MULTILINE);
  private static final Pattern METHOD = Pattern.compile("grpc_method=\"([^\"]+)\"");

  /** Reads the counters now from the etcd at {@code endpoint} (plain http). */
  public static EtcdMetrics read(String endpoint) {
    String text;
    try (HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
      text = http.send(HttpRequest.newBuilder(URI.create(endpoint + "/metrics")).build(),
              HttpResponse.BodyHandlers.ofString()).body();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the metrics of etcd " + endpoint, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the metrics of etcd " + endpoint, e);
    }
    Map<String, Long> calls = new TreeMap<>();
    Matcher m = HANDLED.matcher(text);
    while (m.find()) {
      if (!m.group(1).contains("grpc_type=\"unary\"")) {
        continue;
      }
      Matcher method = METHOD.matcher(m.group(1));
      if (method.find()) {
        calls.merge(method.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
      }
    }
    return new EtcdMetrics(calls, counter(text, "etcd_disk_wal_fsync_duration_seconds_count"),
        counter(text, "etcd_disk_backend_commit_duration_seconds_count"));
  }

  private static long counter(String text, String name) {
    Matcher m = Pattern.compile("^" + name + " (\\S+)$", Pattern.MULTILINE).matcher(text);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
  }

  /** What happened between {@code before} and this reading. */
  public EtcdMetrics since(EtcdMetrics before) {
    Map<String, Long> calls = new TreeMap<>();
    callsByMethod.forEach((method, n) -> {
      long delta = n - before.callsByMethod.getOrDefault(method, 0L);
      if (delta != 0) {
        calls.put(method, delta);
      }
    });
    return new EtcdMetrics(calls, walFsyncs - before.walFsyncs, backendCommits - before.backendCommits);
  }

  /** e.g. {@code Put=12, Txn=8, Range=3; WAL fsyncs 17, backend commits 4}. */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder();
    callsByMethod.forEach((method, n) -> out.append(out.isEmpty() ? "" : ", ").append(method).append('=').append(n));
    return String.format(Locale.ROOT, "etcd calls %s; WAL fsyncs %d, backend commits %d",
        out.isEmpty() ? "none" : out, walFsyncs, backendCommits);
  }
}
