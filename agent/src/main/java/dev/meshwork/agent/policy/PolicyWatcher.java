package dev.meshwork.agent.policy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import dev.meshwork.agent.KubernetesModule;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Feeds the local cluster's CiliumNetworkPolicies and NetworkPolicies (all namespaces) into a
 * {@link PolicyEngine} through fabric8 informers, and calls {@code changed} after each event so
 * that the reconciler drains the engine. A deleted object is deleted from the engine by name.
 */
public final class PolicyWatcher implements AutoCloseable {
  public static final ResourceDefinitionContext CILIUM_NETWORK_POLICY =
      new ResourceDefinitionContext.Builder()
          .withGroup("cilium.io")
          .withVersion("v2")
          .withKind("CiliumNetworkPolicy")
          .withPlural("ciliumnetworkpolicies")
          .withNamespaced(true)
          .build();

  private final KubernetesClient client;
  private final PolicyEngine engine;
  private final Runnable changed;
  private SharedIndexInformer<GenericKubernetesResource> cnpInformer;
  private SharedIndexInformer<NetworkPolicy> npInformer;

  public PolicyWatcher(KubernetesClient client, PolicyEngine engine, Runnable changed) {
    this.client = client;
    this.engine = engine;
    this.changed = changed;
  }

  /**
   * Starts both informers and returns without waiting for their first list: until {@link
   * #hasSynced()}, the reconciler revokes nothing, and a list that fails is retried.
   */
  public synchronized void start() {
    cnpInformer =
        KubernetesModule.retryingForever(
            client.genericKubernetesResources(CILIUM_NETWORK_POLICY).inAnyNamespace().runnableInformer(0));
    cnpInformer.addEventHandler(handler(engine::upsertCiliumNetworkPolicy, CiliumNetworkPolicyParser::ref));
    npInformer =
        KubernetesModule.retryingForever(client.network().v1().networkPolicies().inAnyNamespace().runnableInformer(0));
    npInformer.addEventHandler(handler(engine::upsertNetworkPolicy, KubernetesNetworkPolicyParser::ref));
    cnpInformer.start();
    npInformer.start();
  }

  /** Whether both informers have listed once (the reconciler may then revoke stale keys). */
  public synchronized boolean hasSynced() {
    return cnpInformer != null && cnpInformer.hasSynced() && npInformer.hasSynced();
  }

  @Override
  public synchronized void close() {
    if (cnpInformer != null) {
      cnpInformer.close();
      npInformer.close();
    }
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(
      Consumer<T> upsert, Function<T, PolicyRef> ref) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        upsert.accept(obj);
        changed.run();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        upsert.accept(newObj);
        changed.run();
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        engine.deletePolicy(ref.apply(obj));
        changed.run();
      }
    };
  }
}
