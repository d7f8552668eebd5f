package dev.meshwork.datapath.bpf;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The Java mirror of {@code datapath/bpf/meshwork_maps.h}: one {@link StructLayout} per C struct,
 * with the C member names, so {@code MapLayoutsTest} can compare every offset with the BTF of
 * the compiled object. Fields the C header calls network order use big-endian layouts.
 */
public final class MapLayouts {
  static final ValueLayout.OfInt NET_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);
  static final ValueLayout.OfShort NET_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

  private MapLayouts() {}

  public static final StructLayout IPCACHE_KEY =
      MemoryLayout.structLayout(JAVA_INT.withName("prefixlen"), NET_INT.withName("addr"))
          .withName("ipcache_key");
  public static final StructLayout IPCACHE_VALUE =
      MemoryLayout.structLayout(JAVA_INT.withName("identity"), NET_INT.withName("tunnel_endpoint"))
          .withName("ipcache_value");

  public static final StructLayout SERVICE_KEY =
      MemoryLayout.structLayout(
              NET_INT.withName("addr"),
              NET_SHORT.withName("port"),
              JAVA_BYTE.withName("proto"),
              JAVA_BYTE.withName("pad"),
              JAVA_SHORT.withName("slot"),
              JAVA_SHORT.withName("pad2"))
          .withName("service_key");
  public static final StructLayout SERVICE_VALUE =
      MemoryLayout.structLayout(
              JAVA_INT.withName("backend_id"),
              JAVA_SHORT.withName("count"),
              JAVA_SHORT.withName("rev_nat_id"),
              JAVA_INT.withName("affinity_timeout"),
              JAVA_BYTE.withName("kind"),
              MemoryLayout.sequenceLayout(3, JAVA_BYTE).withName("pad"))
          .withName("service_value");

  public static final StructLayout BACKEND_VALUE =
      MemoryLayout.structLayout(
              NET_INT.withName("addr"),
              NET_SHORT.withName("port"),
              JAVA_BYTE.withName("proto"),
              JAVA_BYTE.withName("pad"))
          .withName("backend_value");

  public static final StructLayout REVNAT_VALUE =
      MemoryLayout.structLayout(
              NET_INT.withName("addr"), NET_SHORT.withName("port"), JAVA_SHORT.withName("pad"))
          .withName("revnat_value");

  public static final StructLayout CT_KEY =
      MemoryLayout.structLayout(
              NET_INT.withName("saddr"),
              NET_INT.withName("daddr"),
              NET_SHORT.withName("sport"),
              NET_SHORT.withName("dport"),
              JAVA_BYTE.withName("proto"),
              JAVA_BYTE.withName("kind"),
              JAVA_SHORT.withName("pad"))
          .withName("ct_key");
  public static final StructLayout CT_VALUE =
      MemoryLayout.structLayout(
              JAVA_LONG.withName("last_seen_ns"),
              JAVA_INT.withName("backend_id"),
              NET_INT.withName("nat_addr"),
              NET_SHORT.withName("nat_port"),
              JAVA_SHORT.withName("rev_nat_id"),
              JAVA_INT.withName("src_identity"),
              NET_INT.withName("tunnel_src"),
              JAVA_INT.withName("pad"))
          .withName("ct_value");

  public static final StructLayout AFFINITY_KEY =
      MemoryLayout.structLayout(
              NET_INT.withName("client_addr"),
              JAVA_SHORT.withName("rev_nat_id"),
              JAVA_SHORT.withName("pad"))
          .withName("affinity_key");
  public static final StructLayout AFFINITY_VALUE =
      MemoryLayout.structLayout(
              JAVA_LONG.withName("last_used_ns"), JAVA_INT.withName("backend_id"), JAVA_INT.withName("pad"))
          .withName("affinity_value");

  public static final StructLayout ENDPOINT_VALUE =
      MemoryLayout.structLayout(
              JAVA_LONG.withName("id"),
              JAVA_INT.withName("ifindex"),
              JAVA_INT.withName("identity"),
              JAVA_INT.withName("flags"),
              MemoryLayout.sequenceLayout(6, JAVA_BYTE).withName("mac"),
              MemoryLayout.sequenceLayout(2, JAVA_BYTE).withName("pad"),
              MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("ifname"),
              JAVA_INT.withName("pad2"))
          .withName("endpoint_value");

  public static final StructLayout POLICY_KEY =
      MemoryLayout.structLayout(
              NET_INT.withName("endpoint_addr"),
              JAVA_INT.withName("remote_identity"),
              NET_SHORT.withName("port"),
              JAVA_BYTE.withName("proto"),
              JAVA_BYTE.withName("direction"))
          .withName("policy_key");

  public static final StructLayout DROP_KEY =
      MemoryLayout.structLayout(NET_INT.withName("endpoint_addr"), JAVA_INT.withName("reason"))
          .withName("drop_key");

  public static final StructLayout NODE_CONFIG =
      MemoryLayout.structLayout(JAVA_INT.withName("vxlan_ifindex"), JAVA_INT.withName("pad"))
          .withName("node_config");

  /** Every struct shared with the C side, for the layout test. */
  public static List<StructLayout> all() {
    return List.of(
        IPCACHE_KEY, IPCACHE_VALUE, SERVICE_KEY, SERVICE_VALUE, BACKEND_VALUE, REVNAT_VALUE,
        CT_KEY, CT_VALUE, AFFINITY_KEY, AFFINITY_VALUE, ENDPOINT_VALUE, POLICY_KEY, DROP_KEY,
        NODE_CONFIG);
  }

  static long offset(StructLayout layout, String field) {
    return layout.byteOffset(groupElement(field));
  }

  // Constants of meshwork_maps.h.
  static final int EP_F_INGRESS_ENFORCED = 1;
  static final int EP_F_EGRESS_ENFORCED = 2;
  static final int DIR_INGRESS = 0;
  static final int DIR_EGRESS = 1;
  static final int CT_FLOW = 0;
  static final int CT_SERVICE = 1;
  static final int DROP_POLICY_INGRESS = 1;
  static final int DROP_POLICY_EGRESS = 2;
  static final int DROP_NO_BACKEND = 3;
}
