package dev.meshwork.agent;

import dagger.Module;
import dagger.Provides;
import dev.meshwork.agent.AgentConfig.EndpointSettings;
import dev.meshwork.agent.endpoint.KubernetesPodLabels;
import dev.meshwork.agent.endpoint.LabelIdentityResolver;
import dev.meshwork.agent.endpoint.LinkManager;
import dev.meshwork.agent.endpoint.MeshNodePodCidr;
import dev.meshwork.agent.endpoint.NodeEndpoints;
import dev.meshwork.agent.endpoint.PodCidrSource;
import dev.meshwork.agent.identity.IdentityTable;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.reconcile.ReconcilerEndpointSink;
import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import java.util.Optional;
import javax.inject.Provider;
import javax.inject.Singleton;

/**
 * The pod endpoints behind the CNI plugin (docs/endpoints.md): present when a Kubernetes API is
 * available ({@code --endpoint-manager=auto}) or required ({@code enabled}). The pod CIDR comes
 * from {@code --pod-cidr} or the node's MeshNode; a pod's identity from its labels in the
 * Kubernetes API and the identity table; endpoints reach the datapath through the reconciler, so
 * policy applies to them. {@link AgentModule} starts them before the agent API and serves their
 * {@code EndpointService}.
 */
@Module
public final class EndpointModule {
  /** How often a waiting ADD asks again for its pod and identity. */
  static final Duration IDENTITY_POLL = Duration.ofMillis(100);
  /** How often the MeshNode is read while the agent waits for its pod CIDR. */
  static final Duration POD_CIDR_POLL = Duration.ofSeconds(1);

  private EndpointModule() {}

  @Provides
  @Singleton
  static Optional<NodeEndpoints> endpoints(
      AgentConfig config,
      Optional<KubernetesClient> kubernetes,
      IdentityTable identities,
      DatapathReconciler reconciler,
      Provider<LinkManager> links) {
    EndpointSettings settings = config.endpoints();
    boolean wanted =
        switch (settings.management()) {
          case DISABLED -> false;
          case ENABLED -> true;
          case AUTO -> kubernetes.isPresent();
        };
    if (!wanted) {
      return Optional.empty();
    }
    KubernetesClient client =
        kubernetes.orElseThrow(
            () ->
                new ConfigException(
                    "endpoint-manager",
                    ConfigSource.flagAndVariable("endpoint-manager")
                        + "=enabled needs the Kubernetes API (service account or KUBECONFIG) to read pods"));
    String cluster = config.clusterName().value();
    PodCidrSource podCidr =
        settings
            .podCidr()
            .map(PodCidrSource::fixed)
            .orElseGet(
                () -> new MeshNodePodCidr(client, config.nodeName(), settings.podCidrTimeout(), POD_CIDR_POLL));
    LabelIdentityResolver resolver =
        new LabelIdentityResolver(
            new KubernetesPodLabels(client, cluster), labels -> identities.idOf(cluster, labels), IDENTITY_POLL);
    return Optional.of(
        new NodeEndpoints(
            podCidr, settings::endpointConfig, links.get(), resolver, new ReconcilerEndpointSink(reconciler)));
  }

  /**
   * Veth pairs made in the node's namespace, the agent's own or {@code --datapath-netns} when the
   * node is another namespace on this host (sandbox, tests), with rtnetlink or {@code ip} as
   * {@code --endpoint-links} says.
   */
  @Module
  public static final class HostLinks {
    private HostLinks() {}

    @Provides
    static LinkManager links(AgentConfig config) {
      return config.endpoints().links().linkManager(config.bpf().netns());
    }
  }
}
