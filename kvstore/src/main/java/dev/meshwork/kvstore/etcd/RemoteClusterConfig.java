package dev.meshwork.kvstore.etcd;

import dev.meshwork.kvstore.key.KeyLayout;
import java.io.IOException;
import java.io.Reader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * How to reach one cluster's etcd: the file format of the clustermesh secret entries.
 *
 * <pre>
 * endpoints:
 * - https://k8s-shared-cluster.mesh.cilium.io:2379
 * trusted-ca-file: '/var/lib/cilium/clustermesh/k8s-shared-cluster.etcd-client-ca.crt'
 * key-file: '/var/lib/cilium/clustermesh/k8s-shared-cluster.etcd-client.key'
 * cert-file: '/var/lib/cilium/clustermesh/k8s-shared-cluster.etcd-client.crt'
 * </pre>
 *
 * <p>The cluster name is the file name (a trailing {@code .yaml} or {@code .yml} is dropped).
 * Relative certificate paths are resolved against the file's directory. {@code https} endpoints
 * need {@code trusted-ca-file}; {@code cert-file} and {@code key-file} come together.
 *
 * @param cluster the remote cluster's name
 * @param source the file it was read from (for messages)
 * @param endpoints etcd client URLs, {@code http} or {@code https}
 * @param tls the TLS files, empty for plain {@code http}
 */
public record RemoteClusterConfig(
    String cluster, Path source, List<URI> endpoints, Optional<TlsSettings> tls) {

  private static final Set<String> KNOWN =
      Set.of("endpoints", "trusted-ca-file", "cert-file", "key-file");

  public RemoteClusterConfig {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(source, "source");
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(tls, "tls");
  }

  /**
   * Reads and validates a config file.
   *
   * @throws InvalidConfigException naming the file and the setting at fault
   */
  public static RemoteClusterConfig load(Path file) {
    String fileName = file.getFileName() == null ? "" : file.getFileName().toString();
    String cluster = fileName.replaceFirst("\\.(yaml|yml)$", "");
    try {
      KeyLayout.checkCluster(cluster);
    } catch (IllegalArgumentException e) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": the file name must be the cluster name: " + e.getMessage(), e);
    }
    Object root;
    try (Reader reader = Files.newBufferedReader(file)) {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(reader);
    } catch (IOException e) {
      throw new InvalidConfigException(
          "remote cluster config " + file + " cannot be read: " + e, e);
    } catch (YAMLException e) {
      throw new InvalidConfigException(
          "remote cluster config " + file + " is not valid YAML: " + e.getMessage(), e);
    }
    if (!(root instanceof Map<?, ?> map)) {
      throw new InvalidConfigException(
          "remote cluster config " + file + " must be a YAML mapping with 'endpoints'");
    }
    for (Object key : map.keySet()) {
      if (!KNOWN.contains(String.valueOf(key))) {
        throw new InvalidConfigException(
            "remote cluster config " + file + ": unknown setting '" + key + "' (known: endpoints, trusted-ca-file, cert-file, key-file)");
      }
    }
    List<URI> endpoints = endpoints(file, map.get("endpoints"));
    Optional<Path> ca = path(file, map, "trusted-ca-file");
    Optional<Path> cert = path(file, map, "cert-file");
    Optional<Path> key = path(file, map, "key-file");
    if (cert.isPresent() != key.isPresent()) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": '" + (cert.isPresent() ? "key-file" : "cert-file")
              + "' is missing ('cert-file' and 'key-file' must be set together)");
    }
    boolean https = endpoints.stream().anyMatch(u -> u.getScheme().equals("https"));
    boolean http = endpoints.stream().anyMatch(u -> u.getScheme().equals("http"));
    if (https && http) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": 'endpoints' mixes http and https URLs");
    }
    if (https && ca.isEmpty()) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": 'trusted-ca-file' is required for https endpoints");
    }
    if (!https && (ca.isPresent() || cert.isPresent())) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": 'endpoints' are http but TLS files are set; use https URLs");
    }
    Optional<TlsSettings> tls =
        ca.map(c -> new TlsSettings(c, cert, key));
    return new RemoteClusterConfig(cluster, file, endpoints, tls);
  }

  private static List<URI> endpoints(Path file, Object value) {
    if (value == null) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": 'endpoints' is missing");
    }
    List<?> raw = value instanceof List<?> l ? l : List.of(value);
    if (raw.isEmpty()) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": 'endpoints' is empty");
    }
    List<URI> uris = new ArrayList<>();
    for (Object item : raw) {
      String text = String.valueOf(item).trim();
      URI uri;
      try {
        uri = new URI(text);
      } catch (URISyntaxException e) {
        throw new InvalidConfigException(
            "remote cluster config " + file + ": 'endpoints' entry '" + text + "' is not a URL: " + e.getMessage(), e);
      }
      if (uri.getScheme() == null
          || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
          || uri.getHost() == null
          || uri.getPort() <= 0) {
        throw new InvalidConfigException(
            "remote cluster config " + file + ": 'endpoints' entry '" + text
                + "' must look like https://host:port (scheme http or https, host, port)");
      }
      uris.add(uri);
    }
    return uris;
  }

  private static Optional<Path> path(Path file, Map<?, ?> map, String setting) {
    Object value = map.get(setting);
    if (value == null) {
      return Optional.empty();
    }
    String text = String.valueOf(value).trim();
    if (text.isEmpty()) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": '" + setting + "' is empty");
    }
    Path dir = file.toAbsolutePath().getParent();
    Path path = dir == null ? Path.of(text) : dir.resolve(text);
    if (!Files.isRegularFile(path)) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": '" + setting + "' file " + path + " does not exist");
    }
    if (!Files.isReadable(path)) {
      throw new InvalidConfigException(
          "remote cluster config " + file + ": '" + setting + "' file " + path + " is not readable");
    }
    return Optional.of(path);
  }
}
