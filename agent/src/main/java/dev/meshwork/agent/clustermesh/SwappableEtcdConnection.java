package dev.meshwork.agent.clustermesh;

import dev.meshwork.kvstore.etcd.EtcdConnection;
import io.etcd.jetcd.Client;

/**
 * An etcd connection whose target can be replaced while WatchStores use it: when a cluster's
 * config file changes, the stores keep what they know and relist through the new client, so
 * only keys that really disappeared are deleted.
 */
final class SwappableEtcdConnection implements EtcdConnection {
  private final String name;
  private volatile EtcdConnection current;

  SwappableEtcdConnection(String name, EtcdConnection initial) {
    this.name = name;
    this.current = initial;
  }

  /** Uses {@code next} from now on and closes the previous connection. */
  void swap(EtcdConnection next) {
    EtcdConnection old = current;
    current = next;
    old.close();
  }

  @Override
  public Client client() {
    return current.client();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() {
    current.close();
  }

  @Override
  public String toString() {
    return name;
  }
}
