package dev.meshwork.agent.clustermesh;

import dev.meshwork.kvstore.etcd.EtcdConnection;
import io.etcd.jetcd.Client;

/**
 * A view of a connection that several clusters are read through (cache mode: the local etcd):
 * closing the view leaves the connection open; its owner closes it.
 */
final class SharedEtcdConnection implements EtcdConnection {
  private final EtcdConnection shared;

  SharedEtcdConnection(EtcdConnection shared) {
    this.shared = shared;
  }

  @Override
  public Client client() {
    return shared.client();
  }

  @Override
  public String name() {
    return shared.name();
  }

  @Override
  public void close() {
    // The owner (ClusterMesh) closes the shared connection.
  }

  @Override
  public String toString() {
    return shared.name();
  }
}
