package dev.meshwork.e2e.sandbox;

import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * What the sandbox builds: clusters (name, id, pod CIDR, service CIDR, nodes), the underlay
 * subnet every node gets an address from, and where agents read the remote clusters from. The
 * mesh file is YAML:
 *
 * <pre>
 * underlay: 198.18.100.0/24
 * clustermeshSource: direct     # or cache: a meshwork-kvstore-sync per cluster, agents read its mirror
 * clusters:
 * - name: k8s-test-cluster
 *   id: 1
 *   podCidr: 10.1.0.0/16
 *   serviceCidr: 10.100.0.0/16
 *   nodes: [test-1, test-2]
 * </pre>
 */
public record MeshSpec(IpPrefix underlay, List<Cluster> clusters, ClustermeshSource clustermeshSource) {

  public static final IpPrefix DEFAULT_UNDERLAY = IpPrefix.parse("198.18.100.0/24");
  private static final IpPrefix ALLOWED_UNDERLAY = IpPrefix.parse("198.18.0.0/15");
  private static final IpPrefix TEN = IpPrefix.parse("10.0.0.0/8");
  // Node names become bpffs directories (no dots) and network namespace names.
  private static final Pattern NODE_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?");

  /** One cluster: its own API server, etcd, operator and nodes. */
  public record Cluster(String name, int id, IpPrefix podCidr, IpPrefix serviceCidr, List<String> nodes) {
    public Cluster {
      nodes = List.copyOf(nodes);
    }
  }

  /**
   * Where the agents read the remote clusters from (the agent's {@code --clustermesh-source}):
   * each remote's etcd ({@code direct}), or the local etcd, into which one {@code
   * meshwork-kvstore-sync} per cluster mirrors every remote ({@code cache}).
   */
  public enum ClustermeshSource {
    DIRECT,
    CACHE;

    /** The value in the mesh file and of the agent's flag. */
    public String flag() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    static ClustermeshSource parse(Object value) {
      for (ClustermeshSource source : values()) {
        if (source.flag().equals(value)) {
          return source;
        }
      }
      throw new IllegalArgumentException("clustermeshSource '" + value + "' must be direct or cache");
    }
  }

  public MeshSpec {
    clusters = List.copyOf(clusters);
    java.util.Objects.requireNonNull(clustermeshSource, "clustermeshSource");
    validate(underlay, clusters);
  }

  /** A mesh whose agents read every remote cluster directly. */
  public MeshSpec(IpPrefix underlay, List<Cluster> clusters) {
    this(underlay, clusters, ClustermeshSource.DIRECT);
  }

  /** The same mesh with the agents reading the remote clusters from {@code source}. */
  public MeshSpec withClustermeshSource(ClustermeshSource source) {
    return new MeshSpec(underlay, clusters, source);
  }

  /** True when every cluster runs a meshwork-kvstore-sync and its agents read the mirror. */
  public boolean cacheMode() {
    return clustermeshSource == ClustermeshSource.CACHE;
  }

  /** The blog's mesh: k8s-test-cluster (id 1, 10.1.0.0/16) and k8s-shared-cluster (id 2, 10.2.0.0/16). */
  public static MeshSpec blog() {
    return blog(DEFAULT_UNDERLAY);
  }

  /** The blog's mesh on another underlay /24 (tests). */
  public static MeshSpec blog(IpPrefix underlay) {
    IpPrefix services = IpPrefix.parse("10.100.0.0/16");
    return new MeshSpec(underlay, List.of(
        new Cluster("k8s-test-cluster", 1, IpPrefix.parse("10.1.0.0/16"), services, List.of("test-1", "test-2")),
        new Cluster("k8s-shared-cluster", 2, IpPrefix.parse("10.2.0.0/16"), services, List.of("shared-1", "shared-2"))));
  }

  public static MeshSpec read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException e) {
      throw new IOException("mesh file " + file + ": cannot read it: " + e.getMessage(), e);
    }
    try {
      return parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("mesh file " + file + ": " + e.getMessage(), e);
    }
  }

  public static MeshSpec parse(String yaml) {
    Object root;
    try {
      root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
    } catch (YAMLException e) {
      throw new IllegalArgumentException("not valid YAML: " + e.getMessage(), e);
    }
    if (!(root instanceof Map<?, ?> top)) {
      throw new IllegalArgumentException(
          "expected a mapping with 'clusters' (and optionally 'underlay' and 'clustermeshSource')");
    }
    IpPrefix underlay = top.containsKey("underlay") ? prefix("underlay", top.get("underlay")) : DEFAULT_UNDERLAY;
    ClustermeshSource source = top.containsKey("clustermeshSource")
        ? ClustermeshSource.parse(top.get("clustermeshSource")) : ClustermeshSource.DIRECT;
    if (!(top.get("clusters") instanceof List<?> list) || list.isEmpty()) {
      throw new IllegalArgumentException("'clusters' must be a non-empty list");
    }
    List<Cluster> clusters = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> c)) {
        throw new IllegalArgumentException("clusters[" + i + "] must be a mapping");
      }
      String where = "clusters[" + i + "]";
      Object name = c.get("name");
      if (!(name instanceof String n)) {
        throw new IllegalArgumentException(where + ".name is missing");
      }
      where = "cluster " + n;
      if (!(c.get("id") instanceof Integer id)) {
        throw new IllegalArgumentException(where + ": 'id' must be an integer 1..255");
      }
      IpPrefix pods = prefix(where + ": podCidr", c.get("podCidr"));
      IpPrefix services = c.containsKey("serviceCidr")
          ? prefix(where + ": serviceCidr", c.get("serviceCidr")) : IpPrefix.parse("10.100.0.0/16");
      List<String> nodes = new ArrayList<>();
      if (c.get("nodes") instanceof List<?> names) {
        for (Object node : names) {
          nodes.add(String.valueOf(node));
        }
      } else if (c.get("nodes") instanceof Integer count) {
        for (int k = 1; k <= count; k++) {
          nodes.add(n.replaceFirst("^k8s-", "").replaceFirst("-cluster$", "") + "-" + k);
        }
      } else {
        throw new IllegalArgumentException(where + ": 'nodes' must be a list of node names or a count");
      }
      clusters.add(new Cluster(n, id, pods, services, nodes));
    }
    return new MeshSpec(underlay, clusters, source);
  }

  private static IpPrefix prefix(String what, Object value) {
    if (!(value instanceof String text)) {
      throw new IllegalArgumentException(what + " must be an IPv4 prefix such as 10.1.0.0/16");
    }
    try {
      return IpPrefix.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + ": " + e.getMessage(), e);
    }
  }

  private static void validate(IpPrefix underlay, List<Cluster> clusters) {
    if (underlay.length() != 24 || !ALLOWED_UNDERLAY.contains(underlay.address())) {
      throw new IllegalArgumentException("underlay " + underlay + " must be a /24 inside 198.18.0.0/15");
    }
    if (clusters.isEmpty()) {
      throw new IllegalArgumentException("at least one cluster is needed");
    }
    Set<String> names = new HashSet<>();
    Set<Integer> ids = new HashSet<>();
    Set<String> nodes = new HashSet<>();
    List<IpPrefix> podCidrs = new ArrayList<>();
    int nodeCount = 0;
    for (Cluster c : clusters) {
      ClusterName.problem(c.name()).ifPresent(p -> {
        throw new IllegalArgumentException("cluster name '" + c.name() + "' is invalid: " + p);
      });
      if (!names.add(c.name())) {
        throw new IllegalArgumentException("cluster " + c.name() + " is given twice");
      }
      if (c.id() < 1 || c.id() > 255 || !ids.add(c.id())) {
        throw new IllegalArgumentException("cluster " + c.name() + ": id " + c.id() + " must be 1..255 and unique");
      }
      for (IpPrefix cidr : List.of(c.podCidr(), c.serviceCidr())) {
        if (cidr.length() < 8 || !TEN.contains(cidr.address())) {
          throw new IllegalArgumentException("cluster " + c.name() + ": " + cidr + " must lie inside 10.0.0.0/8");
        }
      }
      if (c.podCidr().length() > 22) {
        throw new IllegalArgumentException("cluster " + c.name() + ": pod CIDR " + c.podCidr()
            + " is too small for /24 blocks per node (at most /22)");
      }
      if (c.podCidr().overlaps(c.serviceCidr())) {
        throw new IllegalArgumentException("cluster " + c.name() + ": pod CIDR " + c.podCidr()
            + " overlaps the service CIDR " + c.serviceCidr());
      }
      for (IpPrefix other : podCidrs) {
        if (other.overlaps(c.podCidr())) {
          throw new IllegalArgumentException("cluster " + c.name() + ": pod CIDR " + c.podCidr()
              + " overlaps another cluster's " + other);
        }
      }
      podCidrs.add(c.podCidr());
      if (c.nodes().isEmpty()) {
        throw new IllegalArgumentException("cluster " + c.name() + " has no nodes");
      }
      for (String node : c.nodes()) {
        if (!NODE_NAME.matcher(node).matches()) {
          throw new IllegalArgumentException("cluster " + c.name() + ": node name '" + node
              + "' must be 1-32 characters of [a-z0-9-] (no dots)");
        }
        if (!nodes.add(node)) {
          throw new IllegalArgumentException("node name " + node + " is used twice (node names are unique in the mesh)");
        }
        nodeCount++;
      }
    }
    if (nodeCount > 200) {
      throw new IllegalArgumentException(nodeCount + " nodes do not fit the underlay " + underlay + " (at most 200)");
    }
  }

  /** The host's address in the underlay: etcds and API servers listen on it. */
  public String hostAddress() {
    return Ipv4.format(underlay.address() + 1);
  }

  /** The underlay address of a node: .10, .11, ... in the order of the file. */
  public String nodeAddress(String node) {
    int index = 0;
    for (Cluster c : clusters) {
      for (String n : c.nodes()) {
        if (n.equals(node)) {
          return Ipv4.format(underlay.address() + 10 + index);
        }
        index++;
      }
    }
    throw new IllegalArgumentException("no node " + node + " in the mesh");
  }

  public Cluster cluster(String name) {
    return clusters.stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException("no cluster " + name + " in the mesh (known: "
            + String.join(", ", clusters.stream().map(Cluster::name).toList()) + ")"));
  }

  public int indexOf(Cluster cluster) {
    return clusters.indexOf(cluster);
  }

  /** The mesh file form of this spec (written into the run directory). */
  public String toYaml() {
    StringBuilder out = new StringBuilder("underlay: ").append(underlay).append('\n')
        .append("clustermeshSource: ").append(clustermeshSource.flag()).append("\nclusters:\n");
    for (Cluster c : clusters) {
      out.append("- name: ").append(c.name()).append('\n')
          .append("  id: ").append(c.id()).append('\n')
          .append("  podCidr: ").append(c.podCidr()).append('\n')
          .append("  serviceCidr: ").append(c.serviceCidr()).append('\n')
          .append("  nodes: [").append(String.join(", ", c.nodes())).append("]\n");
    }
    return out.toString();
  }
}
