package dev.meshwork.agent;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.agent.reconcile.DatapathReconciler;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.datapath.Datapath;
import dagger.BindsInstance;
import dagger.Component;
import javax.inject.Singleton;

/** The wiring of {@code meshwork-agent}: one component per binary, built from its config. */
@Singleton
@Component(
    modules = {
      AgentModule.class,
      DatapathModule.class,
      KubernetesModule.class,
      EndpointModule.class,
      EndpointModule.HostLinks.class,
      LocalServicesModule.class
    })
public interface AgentComponent {
  /** The lifecycle with every component registered in start order. */
  Lifecycle lifecycle();

  Metrics metrics();

  Datapath datapath();

  ClusterMesh clusterMesh();

  DatapathReconciler reconciler();

  @Component.Factory
  interface Factory {
    AgentComponent create(@BindsInstance AgentConfig config);
  }
}
