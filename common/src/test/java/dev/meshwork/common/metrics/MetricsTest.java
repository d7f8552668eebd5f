package dev.meshwork.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MetricsTest {
  private final Metrics metrics = new Metrics(Map.of("cluster", "cluster-1"));
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @AfterEach
  void close() {
    http.close();
    metrics.close();
  }

  private static InetSocketAddress loopback() {
    return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
  }

  private HttpResponse<String> get(PrometheusEndpoint endpoint, String path, String accept) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path)).timeout(Duration.ofSeconds(5));
    if (accept != null) {
      request.header("Accept", accept);
    }
    return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void scrapeShowsRecordedMetersWithCommonTags() {
    Counter.builder("meshwork.kvstore.decode.errors").tag("kind", "services").register(metrics.registry()).increment(3);

    assertThat(metrics.scrape()).contains("meshwork_kvstore_decode_errors_total{cluster=\"cluster-1\",kind=\"services\"} 3.0");
  }

  @Test
  void servesMetricsOverHttpOnAnEphemeralPort() throws Exception {
    metrics.registry().counter("meshwork.test.requests").increment();
    try (PrometheusEndpoint endpoint = metrics.start(loopback())) {
      assertThat(endpoint.port()).isPositive();

      HttpResponse<String> response = get(endpoint, "/metrics", null);

      assertThat(response.statusCode()).isEqualTo(200);
      assertThat(response.headers().firstValue("Content-Type")).hasValue(PrometheusEndpoint.TEXT_CONTENT_TYPE);
      assertThat(response.body()).contains("# TYPE meshwork_test_requests_total counter")
          .contains("meshwork_test_requests_total{cluster=\"cluster-1\"} 1.0");
    }
  }

  @Test
  void scrapeSeesValuesRecordedAfterStart() throws Exception {
    Counter counter = metrics.registry().counter("meshwork.test.events");
    try (PrometheusEndpoint endpoint = metrics.start(loopback())) {
      counter.increment(41);
      counter.increment();

      assertThat(get(endpoint, "/metrics", null).body()).contains("meshwork_test_events_total{cluster=\"cluster-1\"} 42.0");
    }
  }

  @Test
  void answersOpenMetricsWhenAsked() throws Exception {
    metrics.registry().counter("meshwork.test.requests").increment();
    try (PrometheusEndpoint endpoint = metrics.start(loopback())) {
      HttpResponse<String> response = get(endpoint, "/metrics", "application/openmetrics-text; version=1.0.0");

      assertThat(response.headers().firstValue("Content-Type")).hasValue(PrometheusEndpoint.OPENMETRICS_CONTENT_TYPE);
      assertThat(response.body()).contains("meshwork_test_requests_total").endsWith("# EOF\n");
    }
  }

  @Test
  void otherPathsAre404AndOtherMethods405() throws Exception {
    try (PrometheusEndpoint endpoint = metrics.start(loopback())) {
      assertThat(get(endpoint, "/", null).statusCode()).isEqualTo(404);
      assertThat(get(endpoint, "/metricsx", null).statusCode()).isEqualTo(404);
      HttpResponse<String> post = http.send(
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
      assertThat(post.headers().firstValue("Allow")).hasValue("GET, HEAD");
    }
  }

  @Test
  void closedEndpointStopsServingAndFreesThePort() throws Exception {
    PrometheusEndpoint endpoint = metrics.start(loopback());
    int port = endpoint.port();
    endpoint.close();

    assertThatThrownBy(() -> get(endpoint, "/metrics", null)).isInstanceOf(IOException.class);
    try (PrometheusEndpoint again = metrics.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
      assertThat(again.port()).isEqualTo(port);
    }
  }

  @Test
  void portInUseIsAnErrorNamingTheAddress() throws Exception {
    try (PrometheusEndpoint endpoint = metrics.start(loopback())) {
      InetSocketAddress taken = new InetSocketAddress(InetAddress.getLoopbackAddress(), endpoint.port());

      assertThatThrownBy(() -> metrics.start(taken)).isInstanceOf(IOException.class)
          .hasMessageContaining("cannot serve metrics on").hasMessageContaining(String.valueOf(endpoint.port()));
    }
  }

  @Test
  void metricsServerStartsAndStopsAsALifecycleComponent() throws Exception {
    dev.meshwork.common.lifecycle.Lifecycle lifecycle = new dev.meshwork.common.lifecycle.Lifecycle();
    MetricsServer server = new MetricsServer(metrics, loopback());
    lifecycle.register("metrics-endpoint", server::start, server::stop);

    lifecycle.start();
    int port = server.port();
    HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    lifecycle.stop();

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(server.isRunning()).isFalse();
    assertThatThrownBy(server::port).hasMessageContaining("is not running");
  }

  @Test
  void jvmMetricsCanBeAdded() {
    metrics.withJvmMetrics();

    assertThat(metrics.scrape()).contains("jvm_memory_used_bytes").contains("process_uptime_seconds");
  }
}
