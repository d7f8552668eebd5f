package dev.meshwork.kvstore.etcd;

import io.etcd.jetcd.Client;
import java.util.Objects;

/**
 * A connection to one etcd that the stores ask for a client each time they (re)connect.
 *
 * <p>The indirection is what lets rotated certificates take effect without a restart: {@link
 * ReloadingEtcdConnection#client()} rebuilds the jetcd client when the PEM files changed, and
 * WatchStore / SyncStore call {@link #client()} again after every error. Calls on a client that
 * has been replaced fail with a closed-client error, which the stores treat like any other error.
 *
 * <p>The stores learn that etcd is reachable again from the client they used: {@link
 * ChannelReadiness#of} the client of each attempt (every client {@link EtcdClients} builds has
 * one). So a connection that only hands out clients, like those wrapping another, needs nothing
 * more for that.
 */
public interface EtcdConnection extends AutoCloseable {

  /** The client to use now. Cheap: callers ask for it before every (re)connect. */
  Client client();

  /** For logs and messages, e.g. {@code "etcd of cluster k8s-shared-cluster"}. */
  String name();

  /** Closes the client(s) this connection built. */
  @Override
  void close();

  /** A connection that always returns {@code client}; closing it closes the client. */
  static EtcdConnection of(String name, Client client) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(name, "name");
    return new EtcdConnection() {
      @Override
      public Client client() {
        return client;
      }

      @Override
      public String name() {
        return name;
      }

      @Override
      public void close() {
        client.close();
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }
}
