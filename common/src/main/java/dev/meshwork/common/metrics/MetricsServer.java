package dev.meshwork.common.metrics;

import java.io.IOException;
import java.net.InetSocketAddress;

/**
 * A process's {@code GET /metrics} endpoint as a lifecycle component:
 *
 * <pre>{@code
 * MetricsServer server = new MetricsServer(metrics, new InetSocketAddress(config.metricsPort()));
 * lifecycle.register("metrics-endpoint", server::start, server::stop);
 * }</pre>
 */
public final class MetricsServer {
  private final Metrics metrics;
  private final InetSocketAddress address;
  private PrometheusEndpoint endpoint;

  /** @param address where to listen; port 0 picks a free port ({@link #port()} tells which) */
  public MetricsServer(Metrics metrics, InetSocketAddress address) {
    this.metrics = metrics;
    this.address = address;
  }

  /** @throws IOException naming the address when it cannot be bound */
  public synchronized void start() throws IOException {
    if (endpoint == null) {
      endpoint = metrics.start(address);
    }
  }

  public synchronized void stop() {
    if (endpoint != null) {
      endpoint.close();
      endpoint = null;
    }
  }

  public synchronized boolean isRunning() {
    return endpoint != null;
  }

  /** The bound port (the real one when port 0 was asked for). */
  public synchronized int port() {
    if (endpoint == null) {
      throw new IllegalStateException("the metrics endpoint on " + address + " is not running");
    }
    return endpoint.port();
  }
}
