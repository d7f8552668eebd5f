package dev.meshwork.agent.testsupport;

import dev.meshwork.agent.AgentConfig;
import dev.meshwork.agent.AgentModule;
import dev.meshwork.agent.EndpointModule;
import dev.meshwork.agent.LocalServicesModule;
import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.agent.service.kubernetes.LocalServiceWatcher;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.datapath.Datapath;
import dagger.BindsInstance;
import dagger.Component;
import dev.meshwork.agent.policy.PolicyEngine;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Optional;
import javax.inject.Singleton;

/** The production wiring with a datapath chosen by the test. */
@Singleton
@Component(
    modules = {AgentModule.class, EndpointModule.class, EndpointModule.HostLinks.class, LocalServicesModule.class})
public interface TestAgentComponent {
  Lifecycle lifecycle();

  Metrics metrics();

  ClusterMesh clusterMesh();

  DatapathReconciler reconciler();

  PolicyEngine policyEngine();

  Optional<LocalServiceWatcher> localServices();

  @Component.Factory
  interface Factory {
    TestAgentComponent create(
        @BindsInstance AgentConfig config,
        @BindsInstance Datapath datapath,
        @BindsInstance Optional<KubernetesClient> kubernetes);
  }
}
