package dev.meshwork.kvstoresync;

import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.common.metrics.PrometheusEndpoint;
import java.io.IOException;
import java.net.InetSocketAddress;

/** The {@code GET /metrics} endpoint of the process on all interfaces, started and stopped by the lifecycle. */
final class MetricsServer {
  private final Metrics metrics;
  private final int port;
  private PrometheusEndpoint endpoint;

  MetricsServer(Metrics metrics, int port) {
    this.metrics = metrics;
    this.port = port;
  }

  synchronized void start() throws IOException {
    endpoint = metrics.start(new InetSocketAddress(port));
  }

  synchronized void stop() {
    if (endpoint != null) {
      endpoint.close();
      endpoint = null;
    }
  }

  /** The bound port (the real one when the configured port is 0). */
  synchronized int port() {
    if (endpoint == null) {
      throw new IllegalStateException("the metrics endpoint is not running");
    }
    return endpoint.port();
  }
}
