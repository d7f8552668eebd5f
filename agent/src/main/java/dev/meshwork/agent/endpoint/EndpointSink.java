package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.Endpoint;
import java.util.Optional;

/**
 * Where the endpoint manager hands its endpoints for programming into the datapath; the agent's
 * reconciler implements it. Calls are idempotent: an upsert of an equal endpoint or a delete of
 * an absent one changes nothing.
 */
public interface EndpointSink {
  /** Programs (or replaces) the endpoint keyed by its IPv4 address. */
  void upsert(Endpoint endpoint) throws DatapathException;

  /** Removes the endpoint with this IPv4 address, if present. */
  void delete(int ip) throws DatapathException;

  /** The endpoint as currently programmed for this address, for CNI CHECK. */
  Optional<Endpoint> programmed(int ip) throws DatapathException;
}
