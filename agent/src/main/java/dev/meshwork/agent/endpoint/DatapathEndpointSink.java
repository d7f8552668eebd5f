package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.Endpoint;
import java.util.Objects;
import java.util.Optional;

/**
 * An {@link EndpointSink} that applies each change to a {@link Datapath} directly, one change set
 * per call. For tests (with {@code FakeDatapath}) and for agents that do not batch endpoint changes.
 */
public final class DatapathEndpointSink implements EndpointSink {
  private final Datapath datapath;

  public DatapathEndpointSink(Datapath datapath) {
    this.datapath = Objects.requireNonNull(datapath, "datapath");
  }

  @Override
  public void upsert(Endpoint endpoint) throws DatapathException {
    datapath.apply(ChangeSet.builder().upsert(endpoint).build());
  }

  @Override
  public void delete(int ip) throws DatapathException {
    datapath.apply(ChangeSet.builder().deleteEndpoint(ip).build());
  }

  @Override
  public Optional<Endpoint> programmed(int ip) throws DatapathException {
    return Optional.ofNullable(datapath.snapshot().endpoints().get(ip));
  }
}
