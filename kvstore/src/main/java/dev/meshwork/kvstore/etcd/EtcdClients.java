package dev.meshwork.kvstore.etcd;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.grpc.netty.GrpcSslContexts;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/** Builds jetcd clients from a {@link RemoteClusterConfig} (plain or mutual TLS from PEM files). */
public final class EtcdClients {
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
    return builder(endpoints).build();
  }

  static Client build(String cluster, List<URI> endpoints, TlsSettings tls, Path source) {
    ClientBuilder builder = builder(endpoints);
    if (tls != null) {
      builder.sslContext(sslContext(tls, source));
      // The certificates name the cluster's etcd, not the address we dial.
      builder.authority(endpoints.getFirst().getHost());
    }
    return builder.build();
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
}
