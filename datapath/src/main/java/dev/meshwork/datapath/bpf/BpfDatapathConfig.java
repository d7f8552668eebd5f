package dev.meshwork.datapath.bpf;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Settings of the eBPF datapath of one node.
 *
 * @param nodeName the node; its pins live in {@code bpffsRoot/<nodeName>} (dots become '_',
 *     since bpffs rejects dots in pin names)
 * @param bpffsRoot a directory on a mounted bpffs, default {@code /sys/fs/bpf/meshwork}
 * @param vxlanDevice the node's VXLAN device (external mode), created if missing
 * @param vxlanPort its UDP port, 8472 by default
 * @param netns the node's network namespace ({@code /run/netns/NAME}) when it is not the
 *     agent's own (tests that run several nodes on one host); devices are managed through
 *     {@code nsenter --net=} there
 * @param mapSizes entries per map
 * @param externalDevices the node's devices facing clients outside the mesh (e.g. eth0), where
 *     {@code from_netdev} serves NodePort, external and load-balancer IPs; empty for none
 */
public record BpfDatapathConfig(
    String nodeName,
    Path bpffsRoot,
    String vxlanDevice,
    int vxlanPort,
    Optional<Path> netns,
    MapSizes mapSizes,
    List<String> externalDevices) {

  public static final Path DEFAULT_BPFFS_ROOT = Path.of("/sys/fs/bpf/meshwork");
  public static final String DEFAULT_VXLAN_DEVICE = "meshwork_vxlan";
  public static final int DEFAULT_VXLAN_PORT = 8472;

  private static final Pattern NODE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
  private static final Pattern DEVICE = Pattern.compile("[A-Za-z0-9_-]{1,15}");

  public BpfDatapathConfig {
    Objects.requireNonNull(nodeName, "nodeName");
    Objects.requireNonNull(bpffsRoot, "bpffsRoot");
    Objects.requireNonNull(vxlanDevice, "vxlanDevice");
    Objects.requireNonNull(netns, "netns");
    Objects.requireNonNull(mapSizes, "mapSizes");
    externalDevices = List.copyOf(externalDevices);
    for (String device : externalDevices) {
      if (!DEVICE.matcher(device).matches()) {
        throw new IllegalArgumentException(
            "datapath setting externalDevices: '" + device + "' is not a device name ([A-Za-z0-9_-]{1,15})");
      }
    }
    if (!NODE_NAME.matcher(nodeName).matches()) {
      throw new IllegalArgumentException(
          "datapath setting nodeName: '" + nodeName + "' is not a node name ([A-Za-z0-9._-]{1,200})");
    }
    if (!DEVICE.matcher(vxlanDevice).matches()) {
      throw new IllegalArgumentException(
          "datapath setting vxlanDevice: '" + vxlanDevice + "' is not a device name ([A-Za-z0-9_-]{1,15})");
    }
    if (vxlanPort < 1 || vxlanPort > 65535) {
      throw new IllegalArgumentException("datapath setting vxlanPort: " + vxlanPort + " is outside 1..65535");
    }
  }

  /** The defaults for a node: /sys/fs/bpf/meshwork, meshwork_vxlan on 8472, default sizes. */
  public static BpfDatapathConfig forNode(String nodeName) {
    return new BpfDatapathConfig(
        nodeName, DEFAULT_BPFFS_ROOT, DEFAULT_VXLAN_DEVICE, DEFAULT_VXLAN_PORT, Optional.empty(),
        MapSizes.DEFAULTS, List.of());
  }

  public BpfDatapathConfig withBpffsRoot(Path root) {
    return new BpfDatapathConfig(nodeName, root, vxlanDevice, vxlanPort, netns, mapSizes, externalDevices);
  }

  public BpfDatapathConfig withNetns(Path namespace) {
    return new BpfDatapathConfig(nodeName, bpffsRoot, vxlanDevice, vxlanPort, Optional.of(namespace), mapSizes, externalDevices);
  }

  public BpfDatapathConfig withVxlanDevice(String device) {
    return new BpfDatapathConfig(nodeName, bpffsRoot, device, vxlanPort, netns, mapSizes, externalDevices);
  }

  public BpfDatapathConfig withMapSizes(MapSizes sizes) {
    return new BpfDatapathConfig(nodeName, bpffsRoot, vxlanDevice, vxlanPort, netns, sizes, externalDevices);
  }

  public BpfDatapathConfig withExternalDevices(List<String> devices) {
    return new BpfDatapathConfig(nodeName, bpffsRoot, vxlanDevice, vxlanPort, netns, mapSizes, devices);
  }

  /** The directory holding this node's pins. */
  public Path nodeDirectory() {
    return bpffsRoot.resolve(nodeName.replace('.', '_'));
  }

  /** Entries per map; services holds one entry per frontend plus one per backend slot. */
  public record MapSizes(
      int ipcache,
      int services,
      int backends,
      int revNat,
      int conntrack,
      int affinity,
      int endpoints,
      int policy,
      int drops) {
    public static final MapSizes DEFAULTS =
        new MapSizes(65536, 131072, 65536, 65536, 262144, 65536, 4096, 65536, 16384);

    public MapSizes {
      int[] all = {ipcache, services, backends, revNat, conntrack, affinity, endpoints, policy, drops};
      for (int size : all) {
        if (size < 1) {
          throw new IllegalArgumentException("datapath setting mapSizes: every size must be positive: " + java.util.Arrays.toString(all));
        }
      }
    }

    /** Every map at the same size (tests and benchmarks). */
    public static MapSizes uniform(int size) {
      return new MapSizes(size, size, size, size, size, size, size, size, size);
    }
  }
}
