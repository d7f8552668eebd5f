package dev.meshwork.agent;

import dev.meshwork.agent.policy.PolicyConfig;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.common.config.ConfigException;
import dev.meshwork.common.config.ConfigSource;
import dev.meshwork.agent.endpoint.EndpointConfig;
import dev.meshwork.agent.endpoint.EndpointLinks;
import dev.meshwork.agent.endpoint.HostIpam;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.bpf.BpfDatapathConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of {@code meshwork-agent}, read from flags and {@code MESHWORK_*} variables.
 *
 * @param clusterName this cluster's name ({@code --cluster-name})
 * @param clusterId this cluster's id, 1..255 ({@code --cluster-id})
 * @param nodeName the Kubernetes node this agent runs on ({@code --node-name})
 * @param kvstoreConfig YAML file of the local cluster's etcd ({@code --kvstore-config}); when
 *     absent, a file named after the local cluster in the clustermesh directory is used if present
 * @param clustermeshConfigDir one YAML file per remote cluster, named after it ({@code
 *     --clustermesh-config-dir})
 * @param clustermeshCacheTtl drain a remote unreachable for longer than this; empty: never
 *     ({@code --clustermesh-cache-ttl}, 0 = off)
 * @param heartbeatThreshold a cluster whose heartbeat is older is reported unhealthy
 * @param clustermeshPollInterval how often the config directory and connections are checked
 * @param apiSocket the Unix socket of the agent API ({@code --api-socket})
 * @param datapath which datapath to program ({@code --datapath=fake|bpf})
 * @param metricsPort the port of {@code GET /metrics}, 0 for any free port
 * @param bpf the settings of the eBPF datapath, used with {@code --datapath=bpf}
 * @param policyEnforcement whether the agent watches network policies in the local Kubernetes
 *     API ({@code --policy-enforcement=auto|enabled|disabled})
 * @param policyDefaultLocalCluster a selector without a cluster label matches only the local
 *     cluster ({@code --policy-default-local-cluster}, Cilium 1.19's default)
 * @param localServices whether every Service of the local cluster is read from its Kubernetes API
 *     ({@code --local-services=auto|enabled|disabled})
 * @param clustermeshSource where remote clusters are read from ({@code
 *     --clustermesh-source=direct|cache})
 * @param endpoints the pod endpoints behind the CNI plugin ({@code --endpoint-*}, {@code --pod-cidr*})
 */
public record AgentConfig(
    ClusterName clusterName,
    ClusterId clusterId,
    String nodeName,
    Optional<Path> kvstoreConfig,
    Path clustermeshConfigDir,
    Optional<Duration> clustermeshCacheTtl,
    Duration heartbeatThreshold,
    Duration clustermeshPollInterval,
    Path apiSocket,
    DatapathKind datapath,
    int metricsPort,
    BpfSettings bpf,
    PolicyEnforcement policyEnforcement,
    boolean policyDefaultLocalCluster,
    LocalServices localServices,
    ClusterMeshSource clustermeshSource,
    EndpointSettings endpoints) {

  /**
   * Where the local cluster's Services come from. With the Kubernetes API, every ClusterIP,
   * NodePort and LoadBalancer Service is programmed (global or not) and the local etcd's copy of
   * the global ones is ignored; without it, only the global services the local operator wrote
   * to the local etcd.
   */
  public enum LocalServices {
    /** From the Kubernetes API when one is configured (service account or kubeconfig). */
    AUTO,
    /** Always from the Kubernetes API: the agent fails to start without one. */
    ENABLED,
    /** Never: only the global services of the local etcd. */
    DISABLED
  }

  /** Where the state of remote clusters is read. */
  public enum ClusterMeshSource {
    /** Each remote cluster's own etcd, one connection per remote. */
    DIRECT,
    /** kvstore-sync's mirror of every remote in the local etcd ({@code meshwork/v1/cache/<remote>/}). */
    CACHE;

    /** The name shown in the status and the metrics: "direct" or "cache". */
    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Whether the agent manages pod endpoints (serves the CNI plugin). */
  public enum EndpointManagement {
    /** When a Kubernetes API is configured: in-cluster service account or a kubeconfig. */
    AUTO,
    /** Always: the agent fails to start without a Kubernetes API. */
    ENABLED,
    /** Never: the agent answers no CNI calls (control-plane-only nodes, tests). */
    DISABLED
  }

  /**
   * The pod endpoints the agent sets up for the CNI plugin (docs/endpoints.md).
   *
   * @param management whether the endpoint manager runs ({@code --endpoint-manager})
   * @param stateDir where endpoints and addresses are persisted ({@code --endpoint-state-dir})
   * @param mtu MTU of pod interfaces when the CNI configuration sets none ({@code --endpoint-mtu})
   * @param identityTimeout how long an ADD waits for the pod's identity ({@code --endpoint-identity-timeout})
   * @param podCidr this node's pod CIDR; empty: read from the node's MeshNode ({@code --pod-cidr})
   * @param podCidrTimeout how long the agent waits at start for the MeshNode's pod CIDR ({@code --pod-cidr-timeout})
   * @param links how pods' veth pairs are made: rtnetlink or the {@code ip} command ({@code --endpoint-links})
   */
  public record EndpointSettings(
      EndpointManagement management,
      Path stateDir,
      int mtu,
      Duration identityTimeout,
      Optional<IpPrefix> podCidr,
      Duration podCidrTimeout,
      EndpointLinks links) {
    public static final Duration DEFAULT_POD_CIDR_TIMEOUT = Duration.ofMinutes(5);
    public static final EndpointSettings DEFAULTS =
        new EndpointSettings(
            EndpointManagement.AUTO,
            EndpointConfig.DEFAULT_STATE_DIR,
            EndpointConfig.DEFAULT_MTU,
            EndpointConfig.DEFAULT_IDENTITY_TIMEOUT,
            Optional.empty(),
            DEFAULT_POD_CIDR_TIMEOUT,
            EndpointLinks.NETLINK);
    public static final EndpointSettings DISABLED = DEFAULTS.withManagement(EndpointManagement.DISABLED);

    public EndpointSettings {
      Objects.requireNonNull(management, "management");
      Objects.requireNonNull(stateDir, "stateDir");
      Objects.requireNonNull(identityTimeout, "identityTimeout");
      Objects.requireNonNull(podCidr, "podCidr");
      Objects.requireNonNull(podCidrTimeout, "podCidrTimeout");
      Objects.requireNonNull(links, "links");
    }

    public EndpointSettings withManagement(EndpointManagement value) {
      return new EndpointSettings(value, stateDir, mtu, identityTimeout, podCidr, podCidrTimeout, links);
    }

    /** The endpoint manager's configuration for {@code podCidr}. */
    public EndpointConfig endpointConfig(IpPrefix nodePodCidr) {
      return new EndpointConfig(nodePodCidr, stateDir, mtu, identityTimeout);
    }
  }

  /** Whether network policies are watched and enforced. */
  public enum PolicyEnforcement {
    /** Enabled when a Kubernetes API is configured: in-cluster service account or a kubeconfig. */
    AUTO,
    /** Always: the agent fails to start without a Kubernetes API. */
    ENABLED,
    /** Never: no policy is enforced (where no Kubernetes API exists). */
    DISABLED
  }

  /** The datapath implementations. */
  public enum DatapathKind {
    /** In memory: for tests, benchmarks and the control-plane-only sandbox. */
    FAKE,
    /** eBPF programs and maps in the kernel. */
    BPF
  }

  /**
   * How the agent opens and maintains the eBPF datapath.
   *
   * @param bpffsRoot directory on a mounted bpffs holding one pin directory per node ({@code --bpffs-root})
   * @param vxlanDevice the node's VXLAN device, created if missing ({@code --vxlan-device})
   * @param vxlanPort its UDP port ({@code --vxlan-port})
   * @param externalDevices devices facing clients outside the mesh, for NodePort ({@code --external-devices})
   * @param netns the node's network namespace when it is not the agent's own: several nodes on
   *     one host (sandbox, tests) ({@code --datapath-netns})
   * @param conntrackGcInterval how often idle conntrack entries are deleted ({@code --conntrack-gc-interval})
   * @param conntrackTcpIdle a TCP entry idle this long is deleted ({@code --conntrack-tcp-idle})
   * @param conntrackOtherIdle a UDP/other entry idle this long is deleted ({@code --conntrack-other-idle})
   */
  public record BpfSettings(
      Path bpffsRoot,
      String vxlanDevice,
      int vxlanPort,
      List<String> externalDevices,
      Optional<Path> netns,
      Duration conntrackGcInterval,
      Duration conntrackTcpIdle,
      Duration conntrackOtherIdle) {
    public static final BpfSettings DEFAULTS =
        new BpfSettings(
            BpfDatapathConfig.DEFAULT_BPFFS_ROOT,
            BpfDatapathConfig.DEFAULT_VXLAN_DEVICE,
            BpfDatapathConfig.DEFAULT_VXLAN_PORT,
            List.of(),
            Optional.empty(),
            Duration.ofSeconds(30),
            Duration.ofHours(6),
            Duration.ofSeconds(60));

    public BpfSettings {
      Objects.requireNonNull(bpffsRoot, "bpffsRoot");
      Objects.requireNonNull(vxlanDevice, "vxlanDevice");
      externalDevices = List.copyOf(externalDevices);
      Objects.requireNonNull(netns, "netns");
      Objects.requireNonNull(conntrackGcInterval, "conntrackGcInterval");
      Objects.requireNonNull(conntrackTcpIdle, "conntrackTcpIdle");
      Objects.requireNonNull(conntrackOtherIdle, "conntrackOtherIdle");
    }

    /** The datapath settings of {@code nodeName}. */
    public BpfDatapathConfig datapathConfig(String nodeName) {
      return new BpfDatapathConfig(
          nodeName, bpffsRoot, vxlanDevice, vxlanPort, netns, BpfDatapathConfig.MapSizes.DEFAULTS, externalDevices);
    }
  }

  public static final Path DEFAULT_CLUSTERMESH_CONFIG_DIR = Path.of("/var/lib/meshwork/clustermesh");
  public static final Path DEFAULT_API_SOCKET = Path.of("/var/run/meshwork/agent.sock");
  public static final int DEFAULT_METRICS_PORT = 9962;

  public AgentConfig {
    Objects.requireNonNull(clusterName, "clusterName");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(kvstoreConfig, "kvstoreConfig");
    Objects.requireNonNull(clustermeshConfigDir, "clustermeshConfigDir");
    Objects.requireNonNull(clustermeshCacheTtl, "clustermeshCacheTtl");
    Objects.requireNonNull(apiSocket, "apiSocket");
    Objects.requireNonNull(datapath, "datapath");
    Objects.requireNonNull(bpf, "bpf");
    Objects.requireNonNull(policyEnforcement, "policyEnforcement");
    Objects.requireNonNull(localServices, "localServices");
    Objects.requireNonNull(clustermeshSource, "clustermeshSource");
    Objects.requireNonNull(endpoints, "endpoints");
  }

  /** The same settings with local services and the clustermesh source set (tests, sandbox). */
  public AgentConfig withServiceSources(LocalServices services, ClusterMeshSource source) {
    return new AgentConfig(
        clusterName, clusterId, nodeName, kvstoreConfig, clustermeshConfigDir, clustermeshCacheTtl,
        heartbeatThreshold, clustermeshPollInterval, apiSocket, datapath, metricsPort, bpf, policyEnforcement,
        policyDefaultLocalCluster, services, source, endpoints);
  }

  /** The same settings with network policy enforcement set (tests, sandbox). */
  public AgentConfig withPolicy(PolicyEnforcement enforcement, boolean defaultLocalCluster) {
    return new AgentConfig(
        clusterName, clusterId, nodeName, kvstoreConfig, clustermeshConfigDir, clustermeshCacheTtl,
        heartbeatThreshold, clustermeshPollInterval, apiSocket, datapath, metricsPort, bpf, enforcement,
        defaultLocalCluster, localServices, clustermeshSource, endpoints);
  }

  /** The same settings with other endpoint settings (tests, sandbox). */
  public AgentConfig withEndpoints(EndpointSettings settings) {
    return new AgentConfig(
        clusterName, clusterId, nodeName, kvstoreConfig, clustermeshConfigDir, clustermeshCacheTtl,
        heartbeatThreshold, clustermeshPollInterval, apiSocket, datapath, metricsPort, bpf, policyEnforcement,
        policyDefaultLocalCluster, localServices, clustermeshSource, settings);
  }

  /**
   * Reads the settings.
   *
   * @throws dev.meshwork.common.config.ConfigException naming the first setting that is missing or bad
   */
  public static AgentConfig from(ConfigSource source) {
    source
        .document("cluster-name", "name of this cluster: at most 32 characters of a-z, 0-9 and '-'")
        .document("cluster-id", "id of this cluster in the mesh (1..255), unique per mesh")
        .document("node-name", "the Kubernetes node this agent runs on")
        .document("kvstore-config", "YAML file (endpoints, trusted-ca-file, cert-file, key-file) of this cluster's etcd")
        .document("clustermesh-config-dir", "directory with one YAML file per remote cluster, named after the cluster")
        .document("clustermesh-cache-ttl", "drain a remote cluster unreachable for longer than this (0: keep its state forever)")
        .document("heartbeat-threshold", "report a cluster unhealthy when its heartbeat is older than this")
        .document("clustermesh-poll-interval", "how often the config directory and the connections are checked")
        .document("api-socket", "Unix socket of the agent API (CNI plugin and CLI)")
        .document("datapath", "fake (in memory) or bpf (kernel)")
        .document("metrics-port", "port serving GET /metrics (0: any free port)")
        .document("bpffs-root", "bpf datapath: directory on a mounted bpffs for the node's pinned maps and programs")
        .document("vxlan-device", "bpf datapath: the node's VXLAN device (created if missing)")
        .document("vxlan-port", "bpf datapath: UDP port of the VXLAN device")
        .document("external-devices", "bpf datapath: comma-separated devices facing clients outside the mesh (NodePort)")
        .document(
            "datapath-netns",
            "network namespace of the node when not the agent's own (several nodes on one host): the bpf datapath"
                + " and the pods' veths and routes go there")
        .document("conntrack-gc-interval", "bpf datapath: how often idle connection-tracking entries are deleted")
        .document("conntrack-tcp-idle", "bpf datapath: delete a TCP connection-tracking entry idle this long")
        .document("conntrack-other-idle", "bpf datapath: delete a UDP/other connection-tracking entry idle this long")
        .document(
            "policy-enforcement",
            "auto (when a Kubernetes API is configured: service account or kubeconfig), enabled or disabled:"
                + " watch CiliumNetworkPolicy and NetworkPolicy and enforce them")
        .document(PolicyConfig.DEFAULT_LOCAL_CLUSTER_SETTING.name(), PolicyConfig.DEFAULT_LOCAL_CLUSTER_SETTING.description())
        .document(
            "local-services",
            "auto (when a Kubernetes API is configured), enabled or disabled: program every Service of the local"
                + " cluster from its Kubernetes API (disabled: only the global services in the local etcd)")
        .document(
            "clustermesh-source",
            "direct (connect to each remote cluster's etcd) or cache (read kvstore-sync's mirror of every remote"
                + " from the local etcd; needs --kvstore-config)")
        .document(

            "endpoint-manager",
            "auto (when a Kubernetes API is configured: service account or kubeconfig), enabled or disabled:"
                + " set up pod endpoints for the CNI plugin")
        .document("endpoint-state-dir", "directory where pod endpoints and their addresses are persisted (a hostPath)")
        .document("endpoint-mtu", "MTU of pod interfaces when the CNI configuration sets none (VXLAN: underlay MTU - 50)")
        .document("endpoint-identity-timeout", "how long a CNI ADD waits for the operator to publish the pod's identity")
        .document("pod-cidr", "this node's pod CIDR (e.g. 10.1.3.0/24); default: read from the node's MeshNode")
        .document("pod-cidr-timeout", "how long the agent waits at start for the operator to write its MeshNode's pod CIDR")
        .document("endpoint-links", "how pods' veth pairs, addresses and routes are made: netlink (from the agent) or ip"
            + " (iproute2 processes)");
    // Every setting is read before the first error is thrown, so that --help lists them all.
    java.util.List<ConfigException> problems = new java.util.ArrayList<>();
    ClusterName clusterName = collect(problems, () -> source.required("cluster-name", "cluster name", ClusterName::of));
    Integer clusterId = collect(problems, () -> source.requiredInteger("cluster-id", ClusterId.MIN, ClusterId.MAX));
    String nodeName = collect(problems, () -> source.requiredString("node-name"));
    Optional<Path> kvstoreConfig = source.optionalPath("kvstore-config");
    Path dir = source.path("clustermesh-config-dir", DEFAULT_CLUSTERMESH_CONFIG_DIR);
    Duration ttl = source.duration("clustermesh-cache-ttl", Duration.ZERO);
    Duration heartbeat =
        source.duration("heartbeat-threshold", Duration.ofMinutes(3), Duration.ofSeconds(1), Duration.ofDays(1));
    Duration poll =
        source.duration("clustermesh-poll-interval", Duration.ofSeconds(1), Duration.ofMillis(50), Duration.ofMinutes(10));
    Path socket = source.path("api-socket", DEFAULT_API_SOCKET);
    DatapathKind datapath = source.choice("datapath", DatapathKind.class, DatapathKind.FAKE);
    int metricsPort = source.port("metrics-port", DEFAULT_METRICS_PORT);
    BpfSettings bpf = collect(problems, () -> bpfSettings(source));
    PolicyEnforcement policy = source.choice("policy-enforcement", PolicyEnforcement.class, PolicyEnforcement.AUTO);
    boolean localClusterDefault = source.bool(PolicyConfig.DEFAULT_LOCAL_CLUSTER_SETTING.name(), true);
    LocalServices localServices = source.choice("local-services", LocalServices.class, LocalServices.AUTO);
    ClusterMeshSource meshSource = source.choice("clustermesh-source", ClusterMeshSource.class, ClusterMeshSource.DIRECT);
    EndpointSettings endpoints = collect(problems, () -> endpointSettings(source));
    if (!problems.isEmpty()) {
      throw problems.getFirst();
    }
    return new AgentConfig(
        clusterName,
        ClusterId.of(clusterId),
        nodeName,
        kvstoreConfig,
        dir,
        ttl.isZero() ? Optional.empty() : Optional.of(ttl),
        heartbeat,
        poll,
        socket,
        datapath,
        metricsPort,
        bpf,
        policy,
        localClusterDefault,
        localServices,
        meshSource,
        endpoints);
  }

  private static EndpointSettings endpointSettings(ConfigSource source) {
    EndpointSettings d = EndpointSettings.DEFAULTS;
    EndpointManagement management = source.choice("endpoint-manager", EndpointManagement.class, d.management());
    Path stateDir = source.path("endpoint-state-dir", d.stateDir());
    int mtu = source.integer("endpoint-mtu", d.mtu(), 68, 65535);
    Duration identityTimeout =
        source.duration("endpoint-identity-timeout", d.identityTimeout(), Duration.ofMillis(100), Duration.ofHours(1));
    Optional<IpPrefix> podCidr =
        Optional.ofNullable(source.value("pod-cidr", "IPv4 CIDR", null, AgentConfig::podCidr));
    Duration podCidrTimeout =
        source.duration("pod-cidr-timeout", d.podCidrTimeout(), Duration.ofSeconds(1), Duration.ofHours(24));
    EndpointLinks links = source.choice("endpoint-links", EndpointLinks.class, d.links());
    return new EndpointSettings(management, stateDir, mtu, identityTimeout, podCidr, podCidrTimeout, links);
  }

  private static IpPrefix podCidr(String text) {
    return HostIpam.checkedPodCidr(IpPrefix.parse(text.trim()));
  }

  private static BpfSettings bpfSettings(ConfigSource source) {
    BpfSettings d = BpfSettings.DEFAULTS;
    Path root = source.path("bpffs-root", d.bpffsRoot());
    String vxlan = source.string("vxlan-device", d.vxlanDevice());
    int port = source.port("vxlan-port", d.vxlanPort());
    List<String> external = source.list("external-devices", d.externalDevices());
    Optional<Path> netns = source.optionalPath("datapath-netns");
    Duration gc = source.duration("conntrack-gc-interval", d.conntrackGcInterval(), Duration.ofSeconds(1), Duration.ofHours(1));
    Duration tcpIdle = source.duration("conntrack-tcp-idle", d.conntrackTcpIdle(), Duration.ofSeconds(10), Duration.ofDays(7));
    Duration otherIdle = source.duration("conntrack-other-idle", d.conntrackOtherIdle(), Duration.ofSeconds(1), Duration.ofDays(1));
    if (!DEVICE.matcher(vxlan).matches()) {
      throw ConfigException.invalid("vxlan-device", vxlan, "not a device name (1..15 of A-Z, a-z, 0-9, '_', '-')");
    }
    for (String device : external) {
      if (!DEVICE.matcher(device).matches()) {
        throw ConfigException.invalid("external-devices", device, "not a device name (1..15 of A-Z, a-z, 0-9, '_', '-')");
      }
    }
    return new BpfSettings(root, vxlan, port, external, netns, gc, tcpIdle, otherIdle);
  }

  private static final java.util.regex.Pattern DEVICE = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,15}");

  private static <T> T collect(java.util.List<ConfigException> problems, java.util.function.Supplier<T> read) {
    try {
      return read.get();
    } catch (ConfigException e) {
      problems.add(e);
      return null;
    }
  }
}
