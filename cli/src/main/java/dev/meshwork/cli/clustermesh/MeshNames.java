package dev.meshwork.cli.clustermesh;

import java.net.InetAddress;
import java.util.Optional;
import java.util.regex.Pattern;

/** The names clustermesh files use, and the parsing of IP literals without any DNS lookup. */
public final class MeshNames {

  /** Each cluster's etcd is reached as {@code <cluster>.mesh.meshwork.dev}. */
  public static final String MESH_DOMAIN = "mesh.meshwork.dev";

  /** etcd's client port. */
  public static final int ETCD_PORT = 2379;

  /** Where the agent's pod mounts the meshwork-clustermesh Secret. */
  public static final String DEFAULT_MOUNT_PATH = "/var/lib/meshwork/clustermesh";

  /** The Secret's name. */
  public static final String SECRET_NAME = "meshwork-clustermesh";

  private static final Pattern IPV4 =
      Pattern.compile("^(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}$");

  private MeshNames() {}

  public static String etcdHost(String cluster) {
    return cluster + "." + MESH_DOMAIN;
  }

  /** An IPv4 literal, or an IPv6 literal (bare or in brackets); never a host name. */
  public static Optional<InetAddress> ipLiteral(String text) {
    String candidate = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
    if (IPV4.matcher(candidate).matches() || candidate.contains(":")) {
      try {
        return Optional.of(InetAddress.ofLiteral(candidate));
      } catch (IllegalArgumentException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }
}
