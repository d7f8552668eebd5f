package dev.meshwork.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running {@code GET /metrics} endpoint on the JDK's HTTP server. Prometheus' text format by
 * default, OpenMetrics when the scraper asks for it. Other paths answer 404, other methods 405.
 */
public final class PrometheusEndpoint implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PrometheusEndpoint.class);
  public static final String PATH = "/metrics";
  /** Prometheus' text exposition format. */
  public static final String TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
  /** The OpenMetrics text format. */
  public static final String OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private PrometheusEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  static PrometheusEndpoint start(PrometheusMeterRegistry registry, InetSocketAddress address) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
    }
    // one virtual thread per scrape: scrapes are rare and must not block each other
    ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    server.createContext("/", exchange -> handle(registry, exchange));
    server.start();
    PrometheusEndpoint endpoint = new PrometheusEndpoint(server, executor);
    InetSocketAddress bound = endpoint.address();
    String host = bound.getAddress().isAnyLocalAddress() ? "*" : bound.getHostString();
    log.info("serving metrics on {}:{}{}", host, endpoint.port(), PATH);
    return endpoint;
  }

  private static void handle(PrometheusMeterRegistry registry, HttpExchange exchange) throws IOException {
    try (exchange) {
      if (!exchange.getRequestURI().getPath().equals(PATH)) {
        respond(exchange, 404, "text/plain; charset=utf-8", "not found: metrics are served on " + PATH + "\n");
        return;
      }
      String method = exchange.getRequestMethod();
      if (!method.equals("GET") && !method.equals("HEAD")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        respond(exchange, 405, "text/plain; charset=utf-8", "method " + method + " not allowed\n");
        return;
      }
      String accept = exchange.getRequestHeaders().getFirst("Accept");
      String contentType = accept != null && accept.contains("application/openmetrics-text")
          ? OPENMETRICS_CONTENT_TYPE
          : TEXT_CONTENT_TYPE;
      ByteArrayOutputStream body = new ByteArrayOutputStream(8192);
      registry.scrape(body, contentType);
      exchange.getResponseHeaders().set("Content-Type", contentType);
      if (method.equals("HEAD")) {
        exchange.sendResponseHeaders(200, -1);
        return;
      }
      exchange.sendResponseHeaders(200, body.size());
      try (OutputStream out = exchange.getResponseBody()) {
        body.writeTo(out);
      }
    } catch (RuntimeException e) {
      log.warn("metrics scrape failed", e);
      throw e;
    }
  }

  private static void respond(HttpExchange exchange, int status, String contentType, String text) throws IOException {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** The bound address (with the real port when port 0 was asked for). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops serving; an in-flight scrape gets up to a second to finish. */
  @Override
  public void close() {
    server.stop(1);
    executor.shutdownNow();
  }
}
