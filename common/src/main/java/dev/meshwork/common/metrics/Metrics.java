package dev.meshwork.common.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The metrics of one process: a Prometheus registry that components record into through {@link
 * #registry()}, and the {@code GET /metrics} endpoint that serves it.
 */
public final class Metrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry;
  private JvmGcMetrics gcMetrics;

  public Metrics() {
    this(Map.of());
  }

  /** With tags added to every meter, e.g. {@code cluster=cluster-1}. */
  public Metrics(Map<String, String> commonTags) {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    List<Tag> tags = new ArrayList<>();
    commonTags.forEach((key, value) -> tags.add(Tag.of(key, value)));
    registry.config().commonTags(tags);
  }

  /** Adds the JVM's memory, GC, thread, class loader, CPU and uptime meters (for binaries). */
  public synchronized Metrics withJvmMetrics() {
    if (gcMetrics == null) {
      new JvmMemoryMetrics().bindTo(registry);
      new JvmThreadMetrics().bindTo(registry);
      new ClassLoaderMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      new UptimeMetrics().bindTo(registry);
      gcMetrics = new JvmGcMetrics();
      gcMetrics.bindTo(registry);
    }
    return this;
  }

  public MeterRegistry registry() {
    return registry;
  }

  public PrometheusMeterRegistry prometheusRegistry() {
    return registry;
  }

  /** The current values in the Prometheus text format. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Serves {@code GET /metrics} on {@code address} (port 0: a free port) until the returned endpoint
   * is closed.
   *
   * @throws IOException when the address cannot be bound (e.g. the port is in use)
   */
  public PrometheusEndpoint start(InetSocketAddress address) throws IOException {
    return PrometheusEndpoint.start(registry, address);
  }

  @Override
  public synchronized void close() {
    if (gcMetrics != null) {
      gcMetrics.close();
      gcMetrics = null;
    }
    registry.close();
  }
}
