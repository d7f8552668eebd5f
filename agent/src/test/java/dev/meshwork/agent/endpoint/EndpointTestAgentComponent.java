package dev.meshwork.agent.endpoint;

import dagger.BindsInstance;
import dagger.Component;
import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.AgentModule;
import dev.meshwork.agent.EndpointModule;
import dev.meshwork.agent.LocalServicesModule;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.datapath.Datapath;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import javax.inject.Singleton;

/** The production wiring with endpoints, on a datapath, Kubernetes client and link manager chosen by the test. */
@Singleton
@Component(modules = {AgentModule.class, EndpointModule.class, LocalServicesModule.class})
interface EndpointTestAgentComponent {
  Lifecycle lifecycle();

  Optional<NodeEndpoints> endpoints();

  @Component.Factory
  interface Factory {
    EndpointTestAgentComponent create(
        @BindsInstance AgentConfig config,
        @BindsInstance Datapath datapath,
        @BindsInstance Optional<KubernetesClient> kubernetes,
        @BindsInstance LinkManager links);
  }
}
