package dev.meshwork.operator;

import dagger.BindsInstance;
import dagger.Component;
import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.common.metrics.Metrics;
import dev.meshwork.operator.leader.LeaderElection;
import io.fabric8.kubernetes.client.KubernetesClient;
import javax.inject.Singleton;

/** The wiring of meshwork-operator: one component per process. */
@Singleton
@Component(modules = OperatorModule.class)
public interface OperatorComponent {

  /** Starts the metrics endpoint and the leader election; stops them in reverse. */
  Lifecycle lifecycle();

  Metrics metrics();

  /** What runs while this replica leads. */
  LeaderDuties duties();

  /** Null when leader election is disabled. */
  @javax.annotation.Nullable
  LeaderElection leaderElection();

  @Component.Factory
  interface Factory {
    OperatorComponent create(
        @BindsInstance OperatorConfig config, @BindsInstance KubernetesClient kubernetes);
  }
}
