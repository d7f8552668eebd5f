package dev.meshwork.cli.clustermesh;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;

/**
 * How agents of other clusters reach one cluster's etcd: through the name {@code
 * <cluster>.mesh.meshwork.dev} (resolved by DNS or by a host alias to a known IP), or at an
 * explicit URL.
 */
public sealed interface EtcdAddress {

  /** The kvstore config's endpoint for {@code cluster}. */
  String endpoint(String cluster);

  /** The IP the mesh name must resolve to, when a host alias is needed. */
  Optional<String> hostAliasIp();

  /** The host name or IP the agents' TLS client checks against the etcd server certificate. */
  default String tlsHost(String cluster) {
    return MeshNames.etcdHost(cluster);
  }

  /** The mesh name, resolved by DNS (no alias). */
  record MeshName(int port) implements EtcdAddress {
    @Override
    public String endpoint(String cluster) {
      return "https://" + MeshNames.etcdHost(cluster) + ":" + port;
    }

    @Override
    public Optional<String> hostAliasIp() {
      return Optional.empty();
    }
  }

  /** The mesh name, mapped by a host alias to this IP (the etcd's load balancer or node). */
  record AliasedIp(InetAddress ip, int port) implements EtcdAddress {
    @Override
    public String endpoint(String cluster) {
      return "https://" + MeshNames.etcdHost(cluster) + ":" + port;
    }

    @Override
    public Optional<String> hostAliasIp() {
      return Optional.of(ip.getHostAddress());
    }
  }

  /** An explicit https URL; the etcd server certificate must carry its host as a SAN. */
  record Url(String url) implements EtcdAddress {
    @Override
    public String endpoint(String cluster) {
      return url;
    }

    @Override
    public String tlsHost(String cluster) {
      String host = URI.create(url).getHost();
      return host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    }

    @Override
    public Optional<String> hostAliasIp() {
      return Optional.empty();
    }
  }

  /**
   * Parses "198.18.0.10", "198.18.0.10:32379", "[fd00::1]:2379", "fd00::1" or
   * "https://etcd.example.com:2379".
   *
   * @throws IllegalArgumentException naming what was expected
   */
  static EtcdAddress parse(String text) {
    if (text.startsWith("https://") || text.startsWith("http://")) {
      if (text.startsWith("http://")) {
        throw new IllegalArgumentException("\"" + text + "\" is plain http; remote etcds are reached over TLS (https://)");
      }
      try {
        URI uri = new URI(text);
        if (uri.getHost() == null) {
          throw new IllegalArgumentException("\"" + text + "\" has no host");
        }
        String path = uri.getRawPath();
        if (path != null && !path.isEmpty() && !path.equals("/") || uri.getRawQuery() != null) {
          throw new IllegalArgumentException("\"" + text + "\": an etcd endpoint has no path or query");
        }
        if (uri.getRawUserInfo() != null) {
          throw new IllegalArgumentException("\"" + text + "\": credentials do not belong in the endpoint; clients use certificates");
        }
        // The kvstore config wants an explicit port; etcd's client port is the default.
        return new Url("https://" + uri.getRawAuthority() + (uri.getPort() == -1 ? ":" + MeshNames.ETCD_PORT : ""));
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("\"" + text + "\" is not a valid URL: " + e.getReason());
      }
    }
    String host = text;
    int port = MeshNames.ETCD_PORT;
    int colon = text.lastIndexOf(':');
    boolean bracketed = text.startsWith("[");
    boolean ipv4WithPort = !bracketed && colon > 0 && text.indexOf(':') == colon;
    if (bracketed && text.contains("]:") || ipv4WithPort) {
      host = text.substring(0, colon);
      port = port(text.substring(colon + 1), text);
    }
    int etcdPort = port;
    return MeshNames.ipLiteral(host)
        .<EtcdAddress>map(ip -> new AliasedIp(ip, etcdPort))
        .orElseThrow(() -> new IllegalArgumentException(
            "\"" + text + "\" is neither an IP address (with an optional :port) nor an https:// URL"));
  }

  private static int port(String text, String whole) {
    try {
      int port = Integer.parseInt(text);
      if (port >= 1 && port <= 65535) {
        return port;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("\"" + whole + "\": port " + text + " is not a number in 1..65535");
  }
}
