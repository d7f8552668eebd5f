package dev.meshwork.kvstore.etcd;

import io.etcd.jetcd.Client;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link EtcdConnection} built from a {@link RemoteClusterConfig} that follows certificate
 * rotation.
 *
 * <p>How rotated files are picked up: every call to {@link #client()} compares the modification
 * time, size and content hash of the CA, certificate and key files with those the current client
 * was built from. When they differ, it builds a new client from the new files and closes the old one. The
 * stores call {@link #client()} on every (re)connect, so the next connection uses the new files;
 * calling {@link #reloadIfChanged()} periodically (the agent does it with its config poll) also
 * moves live watches over, because closing the old client makes them fail and reconnect. If the
 * new files cannot be read (for example half-written), the old client is kept and the attempt is
 * repeated on the next call.
 */
public final class ReloadingEtcdConnection implements EtcdConnection {
  private static final Logger LOG = LoggerFactory.getLogger(ReloadingEtcdConnection.class);

  private final RemoteClusterConfig config;
  private final Object lock = new Object();
  private Client client;
  private List<Object> fingerprint;
  private boolean closed;

  private ReloadingEtcdConnection(RemoteClusterConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  /**
   * Opens a connection for {@code config}; the first client is built now.
   *
   * @throws InvalidConfigException if a certificate or key file cannot be read
   */
  public static ReloadingEtcdConnection open(RemoteClusterConfig config) {
    ReloadingEtcdConnection connection = new ReloadingEtcdConnection(config);
    synchronized (connection.lock) {
      connection.fingerprint = connection.currentFingerprint();
      connection.client = EtcdClients.build(config);
    }
    return connection;
  }

  /** The config this connection was built from. */
  public RemoteClusterConfig config() {
    return config;
  }

  @Override
  public Client client() {
    reloadIfChanged();
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException(name() + " is closed");
      }
      return client;
    }
  }

  /**
   * Rebuilds the client if the certificate files changed since it was built.
   *
   * @return whether a new client was built
   */
  public boolean reloadIfChanged() {
    Client old;
    synchronized (lock) {
      if (closed || config.tls().isEmpty()) {
        return false;
      }
      List<Object> now = currentFingerprint();
      if (now.equals(fingerprint)) {
        return false;
      }
      Client fresh;
      try {
        fresh = EtcdClients.build(config);
      } catch (InvalidConfigException e) {
        LOG.warn("{}: certificate files changed but cannot be used yet, keeping the old client: {}",
            name(), e.getMessage());
        return false;
      }
      LOG.info("{}: certificate files changed, using a new client", name());
      old = client;
      client = fresh;
      fingerprint = now;
    }
    old.close();
    return true;
  }

  private List<Object> currentFingerprint() {
    List<Object> parts = new ArrayList<>();
    config.tls().ifPresent(tls -> {
      parts.add(stat(tls.trustedCaFile()));
      tls.certFile().ifPresent(f -> parts.add(stat(f)));
      tls.keyFile().ifPresent(f -> parts.add(stat(f)));
    });
    return parts;
  }

  private static Object stat(Path file) {
    try {
      // The files are a few KB: hashing the content also catches a rewrite within the same
      // mtime tick, which comparing times alone would miss.
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return List.of(a.lastModifiedTime().toMillis(), a.size(), Arrays.hashCode(Files.readAllBytes(file)));
    } catch (IOException e) {
      return "unreadable: " + e.getMessage();
    }
  }

  @Override
  public String name() {
    return "etcd of cluster " + config.cluster();
  }

  @Override
  public void close() {
    Client toClose;
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = client;
    }
    toClose.close();
  }

  @Override
  public String toString() {
    return name();
  }
}
