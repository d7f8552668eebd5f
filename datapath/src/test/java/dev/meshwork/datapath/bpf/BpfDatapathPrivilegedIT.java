package dev.meshwork.datapath.bpf;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathContract;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Service;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The datapath contract on the real eBPF datapath: a node namespace of its own, a private bpffs,
 * real maps, programs and VXLAN device. Plus what only the kernel version has: re-opening the
 * pins after a restart, errors naming the object, and a clean removal.
 */
@Tag("privileged")
class BpfDatapathPrivilegedIT extends DatapathContract {
  private TestNetwork network;
  private PrivateBpffs bpffs;
  private String nodeNs;
  private BpfDatapathConfig config;

  @Override
  protected Datapath newDatapath() throws Exception {
    Privileged.assumeRoot();
    network = new TestNetwork();
    bpffs = new PrivateBpffs();
    nodeNs = network.namespace("node");
    config =
        BpfDatapathConfig.forNode("node-a.example")
            .withBpffsRoot(bpffs.root().resolve("meshwork"))
            .withNetns(TestNetwork.path(nodeNs))
            .withMapSizes(BpfDatapathConfig.MapSizes.uniform(1024));
    return BpfDatapath.open(config);
  }

  @Override
  protected String hostInterface(int n) throws Exception {
    String name = "lxc" + n;
    network.veth(nodeNs, name, nodeNs, name + "p");
    return name;
  }

  @AfterEach
  void removeNode() throws Exception {
    try {
      if (datapath != null) {
        datapath.close();
        datapath = null;
      }
    } finally {
      try {
        if (bpffs != null) bpffs.close();
      } finally {
        if (network != null) network.close();
      }
    }
  }

  @Test
  void reopenedPinsKeepWhatWasProgrammed() throws Exception {
    Endpoint pod = new Endpoint(7, ip("10.1.1.5"), hostInterface(1), 0x10101, true, false);
    Service web = new Service(tcp("10.96.0.10", 80), Service.Kind.CLUSTER_IP, 1,
        List.of(tcp("10.1.1.5", 8080), tcp("10.2.0.7", 8080)), 0);
    IpCacheEntry cidr = new IpCacheEntry(IpPrefix.parse("10.2.0.0/24"), 6, ip("198.18.0.2"));
    datapath.apply(ChangeSet.builder().upsert(pod).upsert(web).upsert(cidr).build());
    var before = datapath.snapshot();
    datapath.close();

    datapath = BpfDatapath.open(config);
    assertThat(datapath.snapshot()).isEqualTo(before);

    // Backend ids are recovered: shrinking after the restart leaves exactly the new backends.
    Service shrunk = new Service(web.frontend(), web.kind(), 1, List.of(tcp("10.2.0.7", 8080)), 0);
    datapath.apply(ChangeSet.builder().upsert(shrunk).build());
    assertThat(datapath.snapshot().services()).containsEntry(web.frontend(), shrunk).hasSize(1);
  }

  @Test
  void programsAreAttachedToEndpointsAndTheOverlayDevice() throws Exception {
    String lxc = hostInterface(1);
    datapath.apply(ChangeSet.builder().upsert(new Endpoint(7, ip("10.1.1.5"), lxc, 0x10101, false, false)).build());

    assertThat(network.exec(nodeNs, "tc", "filter", "show", "dev", lxc, "ingress")).contains("from_container");
    assertThat(network.exec(nodeNs, "tc", "filter", "show", "dev", lxc, "egress")).contains("to_container");
    assertThat(network.exec(nodeNs, "tc", "filter", "show", "dev", config.vxlanDevice(), "ingress")).contains("from_overlay");
    assertThat(network.exec(nodeNs, "ip", "-d", "link", "show", config.vxlanDevice())).contains("external").contains("dstport 8472");
  }

  @Test
  void anEndpointOnAMissingInterfaceIsRejectedByName() {
    Endpoint ghost = new Endpoint(9, ip("10.1.1.9"), "lxc-ghost", 0x10101, false, false);
    assertThatThrownBy(() -> datapath.apply(ChangeSet.builder().upsert(ghost).build()))
        .hasMessageContaining("endpoint 9 (10.1.1.9): host interface lxc-ghost does not exist on node node-a.example");
  }

  @Test
  void aFullMapFailsTheBatchByNameAndARetryAfterFreeingSpaceSucceeds() throws Exception {
    // One external VXLAN device per UDP port and namespace: the small node gets its own.
    BpfDatapathConfig small = BpfDatapathConfig.forNode("node-small")
        .withBpffsRoot(config.bpffsRoot())
        .withNetns(TestNetwork.path(network.namespace("small")))
        .withMapSizes(new BpfDatapathConfig.MapSizes(16, 4, 16, 16, 16, 16, 16, 16, 16));
    try (BpfDatapath tiny = BpfDatapath.open(small)) {
      Service first = new Service(tcp("10.96.0.1", 80), Service.Kind.CLUSTER_IP, 1, List.of(tcp("10.1.1.5", 80)), 0);
      tiny.apply(ChangeSet.builder().upsert(first).build());
      Service tooBig = new Service(tcp("10.96.0.2", 80), Service.Kind.CLUSTER_IP, 2,
          List.of(tcp("10.1.1.6", 80), tcp("10.1.1.7", 80), tcp("10.1.1.8", 80)), 0);

      assertThatThrownBy(() -> tiny.apply(ChangeSet.builder().upsert(tooBig).build()))
          .isInstanceOf(BpfException.class)
          .hasMessageContaining("on map services")
          .hasMessageContaining("E2BIG");
      assertThat(tiny.snapshot().services()).containsEntry(first.frontend(), first);

      tiny.apply(ChangeSet.builder().deleteService(first.frontend()).build());
      tiny.apply(ChangeSet.builder().upsert(tooBig).build());
      assertThat(tiny.snapshot().services()).containsExactly(java.util.Map.entry(tooBig.frontend(), tooBig));
      tiny.destroy();
    }
  }

  @Test
  void conntrackCollectionRemovesOnlyIdleEntriesByProtocolTimeout() throws Exception {
    BpfMap.Spec spec = BpfDatapath.mapSpecs(config.mapSizes()).get(4);
    try (BpfMap conntrack = BpfMap.openOrCreate(config.nodeDirectory().resolve("conntrack").toString(), spec);
        java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
      long now = System.nanoTime();
      long[][] entries = { // source port, protocol, idle seconds
        {1000, 6, 7200}, {1001, 6, 5}, {1002, 17, 120}, {1003, 17, 5}};
      for (long[] e : entries) {
        var key = conntrack.newKey(arena);
        key.set(MapLayouts.NET_INT, 0, ip("10.1.1.5"));
        key.set(MapLayouts.NET_INT, 4, ip("10.96.0.10"));
        key.set(MapLayouts.NET_SHORT, 8, (short) e[0]);
        key.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 12, (byte) e[1]);
        var value = conntrack.newValue(arena);
        value.set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, now - e[2] * 1_000_000_000L);
        conntrack.update(key, value, BpfSyscall.BPF_ANY);
      }
      BpfDatapath bpf = (BpfDatapath) datapath;

      int removed = bpf.collectConntrack(java.time.Duration.ofHours(1), java.time.Duration.ofSeconds(60));

      assertThat(removed).isEqualTo(2);
      assertThat(bpf.conntrackEntries()).isEqualTo(2);
      List<Short> ports = conntrack.keys(arena).stream().map(k -> k.get(MapLayouts.NET_SHORT, 8)).toList();
      assertThat(ports).containsExactlyInAnyOrder((short) 1001, (short) 1003);
    }
  }

  @Test
  void refusesToStartWithoutBpffs() {
    BpfDatapathConfig noBpffs = config.withBpffsRoot(java.nio.file.Path.of("/tmp/" + network.prefix() + "-not-bpffs"));
    assertThatThrownBy(() -> BpfDatapath.open(noBpffs))
        .hasMessageContaining("capability missing: bpffs is not mounted");
  }

  @Test
  void destroyLeavesNoPinsDevicesOrFilters() throws Exception {
    String lxc = hostInterface(1);
    datapath.apply(ChangeSet.builder().upsert(new Endpoint(7, ip("10.1.1.5"), lxc, 0x10101, false, false)).build());
    ((BpfDatapath) datapath).destroy();
    datapath = null;

    assertThat(Files.exists(config.nodeDirectory())).isFalse();
    assertThat(network.exec(nodeNs, "ip", "link", "show")).doesNotContain(config.vxlanDevice());
    assertThat(network.exec(nodeNs, "tc", "filter", "show", "dev", lxc, "ingress")).isBlank();
  }
}
