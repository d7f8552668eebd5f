package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.util.HashMap;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For {@code @RegisterExtension}: a fresh fabric8 mock API server in CRUD mode per test (what
 * {@code @EnableKubernetesMockClient(crud = true)} builds) and a client of it with generous
 * timeouts. On a loaded 2-core machine fabric8's defaults (10 s to connect, 10 s for the server
 * to close) are sometimes exceeded, which says nothing about the shim: a server that does not
 * close within its 10 s is logged, not failed.
 */
final class MockApi implements BeforeEachCallback, AfterEachCallback {

  private static final Logger log = LoggerFactory.getLogger(MockApi.class);

  private KubernetesMockServer server;
  private KubernetesClient client;

  @Override
  @SuppressWarnings("deprecation") // the mapper fabric8's own mock extension uses
  public void beforeEach(ExtensionContext context) {
    server = new KubernetesMockServer(
        new Context(Serialization.jsonMapper()), new MockWebServer(), new HashMap<>(),
        new KubernetesMixedDispatcher(new HashMap<>()), false);
    server.init();
    try (KubernetesClient plain = server.createClient()) {
      client = new KubernetesClientBuilder()
          .withConfig(new ConfigBuilder(plain.getConfiguration())
              .withConnectionTimeout(60_000)
              .withRequestTimeout(60_000)
              .build())
          .build();
    }
  }

  KubernetesClient client() {
    return client;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (client != null) {
      client.close();
    }
    if (server != null) {
      try {
        server.destroy();
      } catch (IllegalStateException e) {
        log.warn("the mock API server did not close in time: {}", e.toString());
      }
    }
  }
}
