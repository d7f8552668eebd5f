package dev.meshwork.agent.reconcile;

import dev.meshwork.agent.endpoint.EndpointSink;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.Endpoint;
import java.util.Optional;

/**
 * The endpoint manager's sink when the agent enforces policy: endpoints go through the
 * reconciler, which tells the policy engine and owns the enforcement flags (use it instead of
 * {@code DatapathEndpointSink}).
 */
public final class ReconcilerEndpointSink implements EndpointSink {
  private final DatapathReconciler reconciler;

  public ReconcilerEndpointSink(DatapathReconciler reconciler) {
    this.reconciler = reconciler;
  }

  @Override
  public void upsert(Endpoint endpoint) throws DatapathException {
    reconciler.upsertEndpoint(endpoint);
  }

  @Override
  public void delete(int ip) throws DatapathException {
    reconciler.deleteEndpoint(ip);
  }

  @Override
  public Optional<Endpoint> programmed(int ip) {
    return reconciler.programmedEndpoint(ip);
  }
}
