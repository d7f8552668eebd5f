package dev.meshwork.bench.operator;

import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The fabric8 mock API server in CRUD mode as a process of its own, so that the operator
 * benchmark can tell the API server's CPU time from the operator's, as with a real
 * kube-apiserver. Prints {@value #READY} and the port on a line of stdout, serves until its
 * stdin is closed (by the benchmark, or by the benchmark's death), then exits. A line {@value
 * #COUNT} on stdin makes it print, on one line after {@value #REQUESTS}, the requests served
 * since the last such line by method and resource (e.g. {@code PUT meshnodes/status=100}).
 */
public final class MockApiServerMain {

  static final String READY = "mock API server listening on port ";
  static final String COUNT = "count";
  static final String REQUESTS = "mock API server requests: ";

  /**
   * The mock server logs every request through java.util.logging; held here because JUL keeps
   * only weak references to loggers, and a collected logger forgets its level.
   */
  private static final Logger MOCK_SERVER_LOG = Logger.getLogger("io.fabric8.mockwebserver");

  private MockApiServerMain() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    MOCK_SERVER_LOG.setLevel(Level.WARNING);
    KubernetesMockServer server =
        new KubernetesMockServer(
            new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(List.of()), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    System.out.println(READY + server.getPort());
    System.out.flush();
    var in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.equals(COUNT)) {
          System.out.println(REQUESTS + countRequests(server));
          System.out.flush();
        }
      }
    } finally {
      try {
        server.destroy();
      } finally {
        System.exit(0); // the server's event loop threads would keep the JVM alive
      }
    }
  }

  /** Takes the recorded requests and counts them by method and resource. */
  private static Map<String, Integer> countRequests(KubernetesMockServer server) throws InterruptedException {
    Map<String, Integer> counts = new TreeMap<>();
    for (RecordedRequest request = server.takeRequest(0, TimeUnit.MILLISECONDS);
        request != null;
        request = server.takeRequest(0, TimeUnit.MILLISECONDS)) {
      counts.merge(request.getMethod() + " " + resourceOf(request.getPath()), 1, Integer::sum);
    }
    return counts;
  }

  /**
   * {@code pods}, {@code meshnodes/status}, {@code pods(watch)}, ... from a request path such as
   * {@code /api/v1/namespaces/bench/pods/pod-1?resourceVersion=5}.
   */
  static String resourceOf(String path) {
    int query = path.indexOf('?');
    boolean watch = query >= 0 && path.substring(query).contains("watch=true");
    List<String> segments = new ArrayList<>(List.of((query >= 0 ? path.substring(0, query) : path).split("/")));
    segments.removeIf(String::isEmpty);
    // api/v1/... or apis/<group>/<version>/...; then namespaces/<ns>/ for a namespaced resource.
    int at = !segments.isEmpty() && segments.getFirst().equals("api") ? 2 : 3;
    if (segments.size() > at + 2 && segments.get(at).equals("namespaces")) {
      at += 2;
    }
    if (segments.size() <= at) {
      return String.join("/", segments);
    }
    String resource = segments.get(at);
    if (segments.getLast().equals("status") && segments.size() > at + 1) {
      resource += "/status";
    }
    return watch ? resource + "(watch)" : resource;
  }
}
