package dev.meshwork.e2e.sandbox.kubelet;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

/**
 * A client of the same mock API server with generous timeouts: on a loaded 2-core machine the
 * default 10 s connection timeout is sometimes exceeded, which says nothing about the shim.
 */
final class PatientClients {

  private PatientClients() {}

  static KubernetesClient of(KubernetesClient mockClient) {
    return new KubernetesClientBuilder()
        .withConfig(new ConfigBuilder(mockClient.getConfiguration())
            .withConnectionTimeout(60_000)
            .withRequestTimeout(60_000)
            .build())
        .build();
  }
}
