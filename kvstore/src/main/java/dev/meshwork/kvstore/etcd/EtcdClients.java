package dev.meshwork.kvstore.etcd;

import io.etcd.jetcd.Auth;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.Cluster;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.Watch;
import io.grpc.ManagedChannel;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.URI;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds jetcd clients from a {@link RemoteClusterConfig} (plain or mutual TLS from PEM files).
 *
 * <p>Every client it builds has its gRPC channel followed by a {@link ChannelReadiness}: a
 * returning etcd is reconnected to within about a second, and the stores are told so.
 */
public final class EtcdClients {
  private static final Logger LOG = LoggerFactory.getLogger(EtcdClients.class);

  private EtcdClients() {}

  /**
   * A new client for {@code config}. jetcd connects lazily: a wrong endpoint or a refused
   * certificate shows up on the first call, not here.
   *
   * @throws InvalidConfigException if a certificate or key file cannot be read; the message names
   *     the file and the setting
   */
  public static Client build(RemoteClusterConfig config) {
    return build(config.cluster(), config.endpoints(), config.tls().orElse(null), config.source());
  }

  /** A plain-text client for {@code endpoints} (tests, local sandbox). */
  public static Client plain(List<URI> endpoints) {
    return followed(endpoints, builder(endpoints).build());
  }

  static Client build(String cluster, List<URI> endpoints, TlsSettings tls, Path source) {
    ClientBuilder builder = builder(endpoints);
    if (tls != null) {
      builder.sslContext(sslContext(tls, source));
      // The certificates name the cluster's etcd, not the address we dial.
      builder.authority(endpoints.getFirst().getHost());
    }
    return followed(endpoints, builder.build());
  }

  private static ClientBuilder builder(List<URI> endpoints) {
    return Client.builder()
        .endpoints(endpoints.toArray(URI[]::new))
        .connectTimeout(Duration.ofSeconds(5))
        // Fail fast while etcd is unreachable: the stores retry with their own backoff, and a
        // call parked until the channel is ready would hold a write slot indefinitely.
        .waitForReady(false)
        // Lists come in pages of up to 10,000 keys; leave room for large values.
        .maxInboundMessageSize(64 * 1024 * 1024)
        .keepaliveTime(Duration.ofSeconds(15))
        .keepaliveTimeout(Duration.ofSeconds(5))
        // Our stores retry themselves, with backoff and a relist; keep jetcd's own retries short.
        .retryMaxDuration(Duration.ofSeconds(5))
        .retryDelay(100)
        .retryMaxDelay(1000);
  }

  /**
   * The TLS context for {@code tls}.
   *
   * @throws InvalidConfigException naming the file and setting that cannot be read
   */
  public static SslContext sslContext(TlsSettings tls, Path source) {
    String where = source == null ? "" : "remote cluster config " + source + ": ";
    try {
      List<X509Certificate> ca = PemFiles.certificates("'trusted-ca-file'", tls.trustedCaFile());
      SslContextBuilder builder =
          GrpcSslContexts.forClient().trustManager(ca.toArray(X509Certificate[]::new));
      if (tls.certFile().isPresent()) {
        List<X509Certificate> chain = PemFiles.certificates("'cert-file'", tls.certFile().get());
        PrivateKey key = PemFiles.privateKey("'key-file'", tls.keyFile().orElseThrow());
        builder.keyManager(key, chain.toArray(X509Certificate[]::new));
      }
      return builder.build();
    } catch (IOException e) {
      throw new InvalidConfigException(where + e.getMessage(), e);
    }
  }

  private static Client followed(List<URI> endpoints, Client client) {
    String name = "etcd " + endpoints.stream().map(URI::toString).collect(Collectors.joining(","));
    ManagedChannel channel = channelOf(client);
    return new FollowedClient(
        client, channel == null ? ChannelReadiness.none() : ChannelReadiness.follow(name, channel));
  }

  /**
   * The gRPC channel inside a jetcd 0.8 client. jetcd offers no public way to reach it or to set
   * its reconnect backoff, so this reads its private connection manager; null (and a warning) if
   * a jetcd upgrade moved it, and then the stores fall back on their own retry backoff.
   */
  private static ManagedChannel channelOf(Client client) {
    try {
      Field managerField = client.getClass().getDeclaredField("connectionManager");
      managerField.setAccessible(true);
      Object manager = managerField.get(client);
      Method getChannel = manager.getClass().getDeclaredMethod("getChannel");
      getChannel.setAccessible(true);
      return (ManagedChannel) getChannel.invoke(manager);
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("cannot reach the gRPC channel of jetcd's {} ({}): a returning etcd is noticed only"
          + " after gRPC's own reconnect backoff (up to 120 s)", client.getClass().getName(), e.toString());
      return null;
    }
  }

  /** A jetcd client together with the readiness of its channel; closing it closes the client. */
  record FollowedClient(Client client, ChannelReadiness readiness) implements Client {
    @Override
    public Auth getAuthClient() {
      return client.getAuthClient();
    }

    @Override
    public KV getKVClient() {
      return client.getKVClient();
    }

    @Override
    public Cluster getClusterClient() {
      return client.getClusterClient();
    }

    @Override
    public Maintenance getMaintenanceClient() {
      return client.getMaintenanceClient();
    }

    @Override
    public Lease getLeaseClient() {
      return client.getLeaseClient();
    }

    @Override
    public Watch getWatchClient() {
      return client.getWatchClient();
    }

    @Override
    public Lock getLockClient() {
      return client.getLockClient();
    }

    @Override
    public Election getElectionClient() {
      return client.getElectionClient();
    }

    @Override
    public void close() {
      client.close(); // shuts the channel down, which ends its readiness
    }
  }
}
