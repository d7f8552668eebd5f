package dev.meshwork.datapath.bpf;

import static dev.meshwork.datapath.bpf.MapLayouts.AFFINITY_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.AFFINITY_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.BACKEND_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.CT_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.CT_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.DROP_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.ENDPOINT_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.IPCACHE_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.IPCACHE_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.NET_INT;
import static dev.meshwork.datapath.bpf.MapLayouts.NET_SHORT;
import static dev.meshwork.datapath.bpf.MapLayouts.NODE_CONFIG;
import static dev.meshwork.datapath.bpf.MapLayouts.POLICY_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.REVNAT_VALUE;
import static dev.meshwork.datapath.bpf.MapLayouts.SERVICE_KEY;
import static dev.meshwork.datapath.bpf.MapLayouts.SERVICE_VALUE;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.meshwork.datapath.ChangeSet;
import dev.meshwork.datapath.Datapath;
import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.DatapathSnapshot;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.IpCacheEntry;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.datapath.Service;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Linux eBPF {@link Datapath}: our programs ({@code datapath/bpf/meshwork.c}) on every local
 * pod's host-side veth and on the node's VXLAN device, driven by maps pinned under {@code
 * <bpffs root>/<node>/}. Map writes go through bpf(2) via FFM ({@link BpfSyscall}), in batches
 * where the kernel has them; devices and program attachment use iproute2 and bpftool.
 *
 * <p>{@link #open} re-opens existing pins (an agent restart), so traffic keeps flowing while the
 * agent is away and what the maps hold is what {@link #snapshot()} reads back. See
 * docs/datapath.md.
 */
public final class BpfDatapath implements Datapath {
  private static final Logger log = LoggerFactory.getLogger(BpfDatapath.class);

  static final String OBJECT_RESOURCE = "meshwork.o";
  static final List<String> PROGRAMS = List.of("from_container", "to_container", "from_overlay", "from_netdev");

  private final BpfDatapathConfig config;
  private final NodeNetwork network;
  private final Path progs;
  private final BpfMap ipcache;
  private final BpfMap services;
  private final BpfMap backends;
  private final BpfMap revNat;
  private final BpfMap conntrack;
  private final BpfMap affinity;
  private final BpfMap endpoints;
  private final BpfMap policy;
  private final BpfMap drops;
  private final BpfMap node;
  private final List<BpfMap> maps;

  // What the service maps hold, rebuilt from them at open: needed to shrink slots and to share
  // backend ids between services.
  private final Map<L4Address, Service> programmedServices = new HashMap<>();
  private final Map<L4Address, Integer> backendIds = new HashMap<>();
  private final Map<Integer, Integer> backendRefs = new HashMap<>();
  private int nextBackendId = 1;
  private boolean closed;

  private BpfDatapath(BpfDatapathConfig config, NodeNetwork network, List<BpfMap> opened) {
    this.config = config;
    this.network = network;
    this.progs = config.nodeDirectory().resolve("progs");
    this.maps = opened;
    this.ipcache = opened.get(0);
    this.services = opened.get(1);
    this.backends = opened.get(2);
    this.revNat = opened.get(3);
    this.conntrack = opened.get(4);
    this.affinity = opened.get(5);
    this.endpoints = opened.get(6);
    this.policy = opened.get(7);
    this.drops = opened.get(8);
    this.node = opened.get(9);
  }

  /** The maps of a node, in the order the constructor takes them. */
  static List<BpfMap.Spec> mapSpecs(BpfDatapathConfig.MapSizes s) {
    return List.of(
        new BpfMap.Spec("ipcache", BpfMap.LPM_TRIE, IPCACHE_KEY.byteSize(), IPCACHE_VALUE.byteSize(), s.ipcache(), BpfMap.F_NO_PREALLOC),
        new BpfMap.Spec("services", BpfMap.HASH, SERVICE_KEY.byteSize(), SERVICE_VALUE.byteSize(), s.services(), 0),
        new BpfMap.Spec("backends", BpfMap.HASH, 4, BACKEND_VALUE.byteSize(), s.backends(), 0),
        new BpfMap.Spec("revnat", BpfMap.HASH, 2, REVNAT_VALUE.byteSize(), s.revNat(), 0),
        new BpfMap.Spec("conntrack", BpfMap.LRU_HASH, CT_KEY.byteSize(), CT_VALUE.byteSize(), s.conntrack(), 0),
        new BpfMap.Spec("affinity", BpfMap.LRU_HASH, AFFINITY_KEY.byteSize(), AFFINITY_VALUE.byteSize(), s.affinity(), 0),
        new BpfMap.Spec("endpoints", BpfMap.HASH, 4, ENDPOINT_VALUE.byteSize(), s.endpoints(), 0),
        new BpfMap.Spec("policy", BpfMap.HASH, POLICY_KEY.byteSize(), 8, s.policy(), 0),
        new BpfMap.Spec("drops", BpfMap.HASH, DROP_KEY.byteSize(), 8, s.drops(), 0),
        new BpfMap.Spec("node", BpfMap.ARRAY, 4, NODE_CONFIG.byteSize(), 1, 0));
  }

  /**
   * Opens the node's datapath: probes bpffs, opens or creates the pinned maps, loads the programs
   * unless they are pinned already, sets up the VXLAN device with from_overlay on it, and reads
   * back what the maps hold.
   */
  public static BpfDatapath open(BpfDatapathConfig config) throws DatapathException {
    Path dir = config.nodeDirectory();
    requireBpffs(dir);
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new DatapathException("cannot create the node's bpffs directory " + dir + ": " + e, e);
    }
    List<BpfMap> opened = new ArrayList<>();
    try {
      for (BpfMap.Spec spec : mapSpecs(config.mapSizes())) {
        opened.add(BpfMap.openOrCreate(dir.resolve(spec.name()).toString(), spec));
      }
      BpfDatapath datapath = new BpfDatapath(config, new NodeNetwork(config.netns()), opened);
      datapath.loadProgramsIfMissing();
      datapath.setUpOverlay();
      datapath.readBackServices();
      log.info(
          "eBPF datapath of node {} open at {} ({} services, {} backends programmed)",
          config.nodeName(), dir, datapath.programmedServices.size(), datapath.backendIds.size());
      return datapath;
    } catch (DatapathException | RuntimeException e) {
      opened.forEach(BpfMap::close);
      throw e;
    }
  }

  /** Capability probe: the pin directory must be on a mounted bpffs. */
  static void requireBpffs(Path dir) throws DatapathException {
    List<String> mountPoints = new ArrayList<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
        String[] halves = line.split(" - ", 2);
        if (halves.length == 2 && halves[1].startsWith("bpf ")) {
          mountPoints.add(halves[0].split(" ")[4].replace("\\040", " "));
        }
      }
    } catch (IOException e) {
      throw new DatapathException("cannot read /proc/self/mountinfo to find bpffs: " + e, e);
    }
    Path absolute = dir.toAbsolutePath().normalize();
    for (String mountPoint : mountPoints) {
      if (absolute.startsWith(Path.of(mountPoint))) return;
    }
    throw new DatapathException(
        "capability missing: bpffs is not mounted at or above " + absolute
            + " (mounted at " + mountPoints + "); mount it with: mount -t bpf bpf /sys/fs/bpf");
  }

  /** Loads meshwork.o with bpftool, reusing our pinned maps, unless its programs are pinned. */
  private void loadProgramsIfMissing() throws DatapathException {
    if (PROGRAMS.stream().allMatch(p -> Files.exists(progs.resolve(p)))) {
      log.info("programs of node {} already pinned at {}: reusing them", config.nodeName(), progs);
      return;
    }
    Path object = null;
    try {
      if (Files.isDirectory(progs)) {
        try (var stale = Files.list(progs)) {
          for (Path p : stale.toList()) Files.delete(p);
        }
        Files.delete(progs);
      }
      object = Files.createTempFile("meshwork-", ".o");
      try (InputStream in = BpfDatapath.class.getResourceAsStream(OBJECT_RESOURCE)) {
        if (in == null) {
          throw new DatapathException(
              "eBPF object " + OBJECT_RESOURCE + " is not on the classpath (was the datapath module built with clang?)");
        }
        Files.copy(in, object, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      List<String> command = new ArrayList<>(List.of("bpftool", "prog", "loadall", object.toString(), progs.toString(), "type", "tc"));
      for (BpfMap map : maps) {
        command.addAll(List.of("map", "name", map.name(), "pinned", config.nodeDirectory().resolve(map.name()).toString()));
      }
      try {
        // bpftool needs no namespace: programs and pins are global objects.
        new NodeNetwork(java.util.Optional.empty()).run(command, null);
      } catch (DatapathException e) {
        throw new DatapathException("capability missing: eBPF program load (tc programs of " + OBJECT_RESOURCE + "): " + e.getMessage(), e);
      }
    } catch (IOException e) {
      throw new DatapathException("cannot prepare the eBPF object for loading: " + e, e);
    } finally {
      if (object != null) {
        try {
          Files.deleteIfExists(object);
        } catch (IOException ignored) {
          // a leftover temp file is harmless
        }
      }
    }
  }

  private void setUpOverlay() throws DatapathException {
    NodeNetwork.Link vxlan = network.ensureVxlan(config.vxlanDevice(), config.vxlanPort());
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment key = arena.allocate(4, 4);
      MemorySegment value = arena.allocate(NODE_CONFIG);
      value.set(JAVA_INT, 0, vxlan.ifindex());
      node.update(key, value, BpfSyscall.BPF_ANY);
    }
    List<NodeNetwork.Attachment> attachments = new ArrayList<>();
    attachments.add(new NodeNetwork.Attachment(config.vxlanDevice(), progs.resolve("from_overlay"), null));
    Map<String, NodeNetwork.Link> links = network.links();
    for (String device : config.externalDevices()) {
      if (!links.containsKey(device)) {
        throw new DatapathException("datapath setting externalDevices: device " + device + " does not exist on node " + config.nodeName());
      }
      attachments.add(new NodeNetwork.Attachment(device, progs.resolve("from_netdev"), null));
    }
    network.attach(attachments);
  }

  public BpfDatapathConfig config() {
    return config;
  }

  @Override
  public synchronized void apply(ChangeSet c) throws DatapathException {
    if (closed) throw new DatapathException("datapath of node " + config.nodeName() + " is closed");
    try (Arena arena = Arena.ofConfined()) {
      applyInOrder(arena, c);
    } catch (DatapathException | RuntimeException e) {
      // The maps hold whatever the batch reached; make the bookkeeping agree with them again
      // so that a retry of the same batch computes the right slots and backend ids.
      try {
        readBackServices();
      } catch (DatapathException reread) {
        e.addSuppressed(reread);
      }
      throw e;
    }
  }

  /** The order of ChangeSet's contract: everything new is in place before anything goes. */
  private void applyInOrder(Arena arena, ChangeSet c) throws DatapathException {
    upsertIpcache(arena, c.ipcacheUpserts());
    upsertEndpoints(arena, c.endpointUpserts());
    upsertServices(arena, c.serviceUpserts());
    writePolicy(arena, c.policyAllows(), true);
    writePolicy(arena, c.policyRevokes(), false);
    deleteServices(arena, c.serviceDeletes());
    deleteEndpoints(arena, c.endpointDeletes());
    deleteIpcache(arena, c.ipcacheDeletes());
  }

  // ---- ipcache

  private static void writeIpcacheKey(MemorySegment key, IpPrefix prefix) {
    key.set(JAVA_INT, 0, prefix.length());
    key.set(NET_INT, 4, prefix.address());
  }

  private void upsertIpcache(Arena arena, List<IpCacheEntry> entries) throws DatapathException {
    if (entries.isEmpty()) return;
    MemorySegment keys = arena.allocate(IPCACHE_KEY.byteSize() * entries.size(), 8);
    MemorySegment values = arena.allocate(IPCACHE_VALUE.byteSize() * entries.size(), 8);
    for (int i = 0; i < entries.size(); i++) {
      IpCacheEntry e = entries.get(i);
      writeIpcacheKey(keys.asSlice(i * IPCACHE_KEY.byteSize()), e.prefix());
      MemorySegment v = values.asSlice(i * IPCACHE_VALUE.byteSize());
      v.set(JAVA_INT, 0, e.identity());
      v.set(NET_INT, 4, e.tunnelEndpoint());
    }
    ipcache.updateAll(keys, values, entries.size());
  }

  private void deleteIpcache(Arena arena, List<IpPrefix> prefixes) throws DatapathException {
    if (prefixes.isEmpty()) return;
    MemorySegment keys = arena.allocate(IPCACHE_KEY.byteSize() * prefixes.size(), 8);
    for (int i = 0; i < prefixes.size(); i++) {
      writeIpcacheKey(keys.asSlice(i * IPCACHE_KEY.byteSize()), prefixes.get(i));
    }
    ipcache.deleteAll(keys, prefixes.size());
  }

  // ---- endpoints

  private void upsertEndpoints(Arena arena, List<Endpoint> list) throws DatapathException {
    if (list.isEmpty()) return;
    Map<String, NodeNetwork.Link> links = network.links();
    List<NodeNetwork.Attachment> attachments = new ArrayList<>();
    MemorySegment keys = arena.allocate(4L * list.size(), 8);
    MemorySegment values = arena.allocate(ENDPOINT_VALUE.byteSize() * list.size(), 8);
    for (int i = 0; i < list.size(); i++) {
      Endpoint e = list.get(i);
      NodeNetwork.Link link = links.get(e.hostInterface());
      if (link == null) {
        throw new DatapathException(
            "endpoint " + e.id() + " (" + Ipv4.format(e.ip()) + "): host interface " + e.hostInterface()
                + " does not exist on node " + config.nodeName());
      }
      byte[] name = e.hostInterface().getBytes(StandardCharsets.US_ASCII);
      if (name.length > 15) {
        throw new DatapathException("endpoint " + e.id() + ": host interface name " + e.hostInterface() + " is longer than 15 characters");
      }
      keys.set(NET_INT, 4L * i, e.ip());
      MemorySegment v = values.asSlice(i * ENDPOINT_VALUE.byteSize(), ENDPOINT_VALUE.byteSize());
      v.set(JAVA_LONG, 0, e.id());
      v.set(JAVA_INT, 8, link.ifindex());
      v.set(JAVA_INT, 12, e.identity());
      v.set(JAVA_INT, 16, (e.ingressEnforced() ? MapLayouts.EP_F_INGRESS_ENFORCED : 0)
          | (e.egressEnforced() ? MapLayouts.EP_F_EGRESS_ENFORCED : 0));
      MemorySegment.copy(link.mac(), 0, v, JAVA_BYTE, 20, 6);
      MemorySegment.copy(name, 0, v, JAVA_BYTE, 28, name.length);
      attachments.add(new NodeNetwork.Attachment(
          e.hostInterface(), progs.resolve("from_container"), progs.resolve("to_container")));
    }
    // Programs first: they pass traffic of endpoints they do not know to the stack.
    network.attach(attachments);
    endpoints.updateAll(keys, values, list.size());
  }

  private void deleteEndpoints(Arena arena, List<Integer> ips) throws DatapathException {
    if (ips.isEmpty()) return;
    MemorySegment key = arena.allocate(4, 4);
    MemorySegment value = endpoints.newValue(arena);
    List<String> devices = new ArrayList<>();
    MemorySegment dropKey = arena.allocate(DROP_KEY);
    for (int ip : ips) {
      key.set(NET_INT, 0, ip);
      if (endpoints.lookup(key, value)) {
        devices.add(ifname(value));
        endpoints.delete(key);
      }
      dropKey.set(NET_INT, 0, ip);
      for (int reason : new int[] {MapLayouts.DROP_POLICY_INGRESS, MapLayouts.DROP_POLICY_EGRESS, MapLayouts.DROP_NO_BACKEND}) {
        dropKey.set(JAVA_INT, 4, reason);
        drops.delete(dropKey);
      }
    }
    for (String device : devices) {
      try {
        network.detach(device);
      } catch (DatapathException e) {
        log.warn("endpoint device {} on node {}: cannot detach programs: {}", device, config.nodeName(), e.getMessage());
      }
    }
  }

  private static String ifname(MemorySegment endpointValue) {
    byte[] raw = endpointValue.asSlice(28, 16).toArray(JAVA_BYTE);
    int len = 0;
    while (len < raw.length && raw[len] != 0) len++;
    return new String(raw, 0, len, StandardCharsets.US_ASCII);
  }

  // ---- services

  private static void writeServiceKey(MemorySegment key, L4Address frontend, int slot) {
    key.set(NET_INT, 0, frontend.ip());
    key.set(NET_SHORT, 4, (short) frontend.port());
    key.set(JAVA_BYTE, 6, (byte) frontend.protocol().ipProtocolNumber());
    key.set(JAVA_BYTE, 7, (byte) 0);
    key.set(JAVA_SHORT, 8, (short) slot);
    key.set(JAVA_SHORT, 10, (short) 0);
  }

  private static int kindCode(Service.Kind kind) {
    return switch (kind) {
      case CLUSTER_IP -> 0;
      case NODE_PORT -> 1;
      case EXTERNAL_IP -> 2;
      case LOAD_BALANCER -> 3;
    };
  }

  private static Service.Kind kindOf(int code) {
    return switch (code) {
      case 1 -> Service.Kind.NODE_PORT;
      case 2 -> Service.Kind.EXTERNAL_IP;
      case 3 -> Service.Kind.LOAD_BALANCER;
      default -> Service.Kind.CLUSTER_IP;
    };
  }

  static Protocol protocolOf(int number) {
    for (Protocol p : Protocol.values()) {
      if (p.ipProtocolNumber() == number) return p;
    }
    return null;
  }

  private int acquireBackend(L4Address backend, List<L4Address> newBackends) {
    Integer id = backendIds.get(backend);
    if (id == null) {
      id = nextBackendId++;
      backendIds.put(backend, id);
      newBackends.add(backend);
    }
    backendRefs.merge(id, 1, Integer::sum);
    return id;
  }

  /** Drops one reference; adds the backend's id to {@code unused} when no service uses it. */
  private void releaseBackend(L4Address backend, List<Integer> unused) {
    Integer id = backendIds.get(backend);
    if (id == null) return;
    int left = backendRefs.merge(id, -1, Integer::sum);
    if (left <= 0) {
      backendRefs.remove(id);
      backendIds.remove(backend);
      unused.add(id);
    }
  }

  /**
   * Per service: backends first, then the slots, then the master entry with the new count, and
   * only then the stale slots and unused backends go, so a lookup never meets a gap.
   */
  private void upsertServices(Arena arena, List<Service> list) throws DatapathException {
    if (list.isEmpty()) return;
    int slotCount = 0;
    for (Service s : list) slotCount += s.backends().size();
    List<L4Address> newBackends = new ArrayList<>();
    List<Integer> unusedBackends = new ArrayList<>();
    MemorySegment slotKeys = arena.allocate(SERVICE_KEY.byteSize() * Math.max(1, slotCount), 8);
    MemorySegment slotValues = arena.allocate(SERVICE_VALUE.byteSize() * Math.max(1, slotCount), 8);
    MemorySegment masterKeys = arena.allocate(SERVICE_KEY.byteSize() * list.size(), 8);
    MemorySegment masterValues = arena.allocate(SERVICE_VALUE.byteSize() * list.size(), 8);
    MemorySegment revKeys = arena.allocate(2L * list.size(), 8);
    MemorySegment revValues = arena.allocate(REVNAT_VALUE.byteSize() * list.size(), 8);
    List<MemorySegment> staleSlots = new ArrayList<>();
    int slot = 0;
    for (int i = 0; i < list.size(); i++) {
      Service s = list.get(i);
      Service old = programmedServices.get(s.frontend());
      for (int b = 0; b < s.backends().size(); b++) {
        int id = acquireBackend(s.backends().get(b), newBackends);
        writeServiceKey(slotKeys.asSlice(slot * SERVICE_KEY.byteSize()), s.frontend(), b + 1);
        MemorySegment v = slotValues.asSlice(slot * SERVICE_VALUE.byteSize(), SERVICE_VALUE.byteSize());
        v.set(JAVA_INT, 0, id);
        v.set(JAVA_SHORT, 6, (short) s.revNatId());
        slot++;
      }
      writeServiceKey(masterKeys.asSlice(i * SERVICE_KEY.byteSize()), s.frontend(), 0);
      MemorySegment m = masterValues.asSlice(i * SERVICE_VALUE.byteSize(), SERVICE_VALUE.byteSize());
      m.set(JAVA_SHORT, 4, (short) s.backends().size());
      m.set(JAVA_SHORT, 6, (short) s.revNatId());
      m.set(JAVA_INT, 8, s.sessionAffinityTimeoutSeconds());
      m.set(JAVA_BYTE, 12, (byte) kindCode(s.kind()));
      revKeys.set(JAVA_SHORT, 2L * i, (short) s.revNatId());
      MemorySegment r = revValues.asSlice(i * REVNAT_VALUE.byteSize(), REVNAT_VALUE.byteSize());
      r.set(NET_INT, 0, s.frontend().ip());
      r.set(NET_SHORT, 4, (short) s.frontend().port());
      if (old != null) {
        for (int b = s.backends().size(); b < old.backends().size(); b++) {
          MemorySegment k = arena.allocate(SERVICE_KEY);
          writeServiceKey(k, s.frontend(), b + 1);
          staleSlots.add(k);
        }
        for (L4Address b : old.backends()) releaseBackend(b, unusedBackends);
      }
      programmedServices.put(s.frontend(), s);
    }

    if (!newBackends.isEmpty()) {
      MemorySegment keys = arena.allocate(4L * newBackends.size(), 8);
      MemorySegment values = arena.allocate(BACKEND_VALUE.byteSize() * newBackends.size(), 8);
      for (int i = 0; i < newBackends.size(); i++) {
        L4Address b = newBackends.get(i);
        keys.setAtIndex(JAVA_INT, i, backendIds.get(b));
        writeBackend(values.asSlice(i * BACKEND_VALUE.byteSize()), b);
      }
      backends.updateAll(keys, values, newBackends.size());
    }
    revNat.updateAll(revKeys, revValues, list.size());
    if (slotCount > 0) services.updateAll(slotKeys, slotValues, slotCount);
    services.updateAll(masterKeys, masterValues, list.size());
    for (MemorySegment k : staleSlots) services.delete(k);
    deleteBackends(arena, unusedBackends);
  }

  private static void writeBackend(MemorySegment v, L4Address b) {
    v.set(NET_INT, 0, b.ip());
    v.set(NET_SHORT, 4, (short) b.port());
    v.set(JAVA_BYTE, 6, (byte) b.protocol().ipProtocolNumber());
  }

  private void deleteBackends(Arena arena, List<Integer> unused) throws DatapathException {
    if (unused.isEmpty()) return;
    MemorySegment keys = arena.allocate(4L * unused.size(), 8);
    for (int i = 0; i < unused.size(); i++) keys.setAtIndex(JAVA_INT, i, unused.get(i));
    backends.deleteAll(keys, unused.size());
  }

  private void deleteServices(Arena arena, List<L4Address> frontends) throws DatapathException {
    List<Integer> unusedBackends = new ArrayList<>();
    MemorySegment key = arena.allocate(SERVICE_KEY);
    MemorySegment revKey = arena.allocate(2, 2);
    for (L4Address frontend : frontends) {
      Service old = programmedServices.remove(frontend);
      if (old == null) continue;
      writeServiceKey(key, frontend, 0);
      services.delete(key); // the master first: no new connections find the service
      for (int b = 1; b <= old.backends().size(); b++) {
        writeServiceKey(key, frontend, b);
        services.delete(key);
      }
      for (L4Address b : old.backends()) releaseBackend(b, unusedBackends);
      boolean revNatShared = programmedServices.values().stream().anyMatch(s -> s.revNatId() == old.revNatId());
      if (!revNatShared) {
        revKey.set(JAVA_SHORT, 0, (short) old.revNatId());
        revNat.delete(revKey);
      }
    }
    deleteBackends(arena, unusedBackends);
  }

  /** Rebuilds the service bookkeeping (slots, backend ids and their users) from the maps. */
  private void readBackServices() throws DatapathException {
    programmedServices.clear();
    backendIds.clear();
    backendRefs.clear();
    int maxId = 0;
    try (Arena arena = Arena.ofConfined()) {
      Map<Integer, L4Address> byId = readBackends(arena);
      for (int id : byId.keySet()) maxId = Math.max(maxId, id);
      for (Service s : readServices(arena, byId).values()) {
        programmedServices.put(s.frontend(), s);
      }
      byId.forEach((id, address) -> backendIds.put(address, id));
      for (Service s : programmedServices.values()) {
        for (L4Address b : s.backends()) backendRefs.merge(backendIds.get(b), 1, Integer::sum);
      }
    }
    nextBackendId = maxId + 1;
  }

  private Map<Integer, L4Address> readBackends(Arena arena) throws DatapathException {
    Map<Integer, L4Address> byId = new HashMap<>();
    backends.forEach(arena, (k, v) -> {
      Protocol p = protocolOf(v.get(JAVA_BYTE, 6) & 0xff);
      if (p == null) return;
      byId.put(k.get(JAVA_INT, 0), new L4Address(v.get(NET_INT, 0), v.get(NET_SHORT, 4) & 0xffff, p));
    });
    return byId;
  }

  private Map<L4Address, Service> readServices(Arena arena, Map<Integer, L4Address> byId)
      throws DatapathException {
    Map<L4Address, Service> result = new HashMap<>();
    List<MemorySegment> masters = new ArrayList<>();
    List<MemorySegment> masterValues = new ArrayList<>();
    services.forEach(arena, (k, v) -> {
      if (k.get(JAVA_SHORT, 8) == 0) {
        masters.add(k);
        masterValues.add(v);
      }
    });
    MemorySegment slotKey = arena.allocate(SERVICE_KEY);
    MemorySegment slotValue = services.newValue(arena);
    for (int i = 0; i < masters.size(); i++) {
      MemorySegment k = masters.get(i);
      MemorySegment v = masterValues.get(i);
      Protocol proto = protocolOf(k.get(JAVA_BYTE, 6) & 0xff);
      if (proto == null) continue;
      L4Address frontend = new L4Address(k.get(NET_INT, 0), k.get(NET_SHORT, 4) & 0xffff, proto);
      int count = v.get(JAVA_SHORT, 4) & 0xffff;
      List<L4Address> list = new ArrayList<>(count);
      for (int slot = 1; slot <= count; slot++) {
        writeServiceKey(slotKey, frontend, slot);
        if (services.lookup(slotKey, slotValue)) {
          L4Address b = byId.get(slotValue.get(JAVA_INT, 0));
          if (b != null) list.add(b);
        }
      }
      result.put(frontend, new Service(frontend, kindOf(v.get(JAVA_BYTE, 12)), v.get(JAVA_SHORT, 6) & 0xffff, list, v.get(JAVA_INT, 8)));
    }
    return result;
  }

  // ---- policy

  private static void writePolicyKey(MemorySegment k, PolicyKey p) {
    k.set(NET_INT, 0, p.endpointIp());
    k.set(JAVA_INT, 4, p.remoteIdentity());
    k.set(NET_SHORT, 8, (short) p.port());
    k.set(JAVA_BYTE, 10, (byte) (p.protocol() == null ? 0 : p.protocol().ipProtocolNumber()));
    k.set(JAVA_BYTE, 11, (byte) (p.direction() == PolicyKey.Direction.INGRESS ? MapLayouts.DIR_INGRESS : MapLayouts.DIR_EGRESS));
  }

  private void writePolicy(Arena arena, List<PolicyKey> list, boolean allow) throws DatapathException {
    if (list.isEmpty()) return;
    MemorySegment keys = arena.allocate(POLICY_KEY.byteSize() * list.size(), 8);
    for (int i = 0; i < list.size(); i++) writePolicyKey(keys.asSlice(i * POLICY_KEY.byteSize()), list.get(i));
    if (allow) {
      policy.updateAll(keys, arena.allocate(8L * list.size(), 8), list.size());
    } else {
      policy.deleteAll(keys, list.size());
    }
  }

  // ---- reading back

  private static PolicyKey policyKeyOf(MemorySegment k) {
    int proto = k.get(JAVA_BYTE, 10) & 0xff;
    return new PolicyKey(
        k.get(NET_INT, 0),
        k.get(JAVA_BYTE, 11) == MapLayouts.DIR_INGRESS ? PolicyKey.Direction.INGRESS : PolicyKey.Direction.EGRESS,
        k.get(JAVA_INT, 4),
        k.get(NET_SHORT, 8) & 0xffff,
        proto == 0 ? null : protocolOf(proto));
  }

  /** Packets each policy entry has allowed (new flows only: replies and established flows skip policy). */
  public synchronized Map<PolicyKey, Long> policyHits() throws DatapathException {
    Map<PolicyKey, Long> hits = new HashMap<>();
    try (Arena arena = Arena.ofConfined()) {
      policy.forEach(arena, (k, v) -> hits.put(policyKeyOf(k), v.get(JAVA_LONG, 0)));
    }
    return hits;
  }

  @Override
  public synchronized DatapathSnapshot snapshot() throws DatapathException {
    try (Arena arena = Arena.ofConfined()) {
      Map<IpPrefix, IpCacheEntry> ipc = new HashMap<>();
      ipcache.forEach(arena, (k, v) -> {
        IpPrefix prefix = new IpPrefix(k.get(NET_INT, 4), k.get(JAVA_INT, 0));
        ipc.put(prefix, new IpCacheEntry(prefix, v.get(JAVA_INT, 0), v.get(NET_INT, 4)));
      });
      Map<Integer, Endpoint> eps = new HashMap<>();
      endpoints.forEach(arena, (k, v) -> {
        int ip = k.get(NET_INT, 0);
        int flags = v.get(JAVA_INT, 16);
        eps.put(ip, new Endpoint(v.get(JAVA_LONG, 0), ip, ifname(v), v.get(JAVA_INT, 12),
            (flags & MapLayouts.EP_F_INGRESS_ENFORCED) != 0, (flags & MapLayouts.EP_F_EGRESS_ENFORCED) != 0));
      });
      Set<PolicyKey> pol = new HashSet<>();
      for (MemorySegment k : policy.keys(arena)) pol.add(policyKeyOf(k));
      Map<L4Address, Service> svc = readServices(arena, readBackends(arena));
      return new DatapathSnapshot(ipc, svc, eps, pol);
    }
  }

  /** Why the programs dropped packets of a local endpoint. */
  public enum DropReason {
    POLICY_INGRESS,
    POLICY_EGRESS,
    NO_BACKEND
  }

  /** A drop counter: packets of {@code endpointIp} dropped for {@code reason}. */
  public record DropCount(int endpointIp, DropReason reason, long packets) {}

  /** The drop counters (for the CLI and tests). */
  public synchronized List<DropCount> drops() throws DatapathException {
    List<DropCount> result = new ArrayList<>();
    try (Arena arena = Arena.ofConfined()) {
      drops.forEach(arena, (k, v) -> {
        int reason = k.get(JAVA_INT, 4);
        DropReason r = switch (reason) {
          case MapLayouts.DROP_POLICY_INGRESS -> DropReason.POLICY_INGRESS;
          case MapLayouts.DROP_POLICY_EGRESS -> DropReason.POLICY_EGRESS;
          case MapLayouts.DROP_NO_BACKEND -> DropReason.NO_BACKEND;
          default -> null;
        };
        if (r != null) result.add(new DropCount(k.get(NET_INT, 0), r, v.get(JAVA_LONG, 0)));
      });
    }
    return result;
  }

  /** Packets dropped for an endpoint and reason so far. */
  public long dropped(int endpointIp, DropReason reason) throws DatapathException {
    return drops().stream()
        .filter(d -> d.endpointIp() == endpointIp && d.reason() == reason)
        .mapToLong(DropCount::packets)
        .sum();
  }

  /**
   * Removes conntrack entries idle for longer than their timeout ({@code tcpIdle} for TCP,
   * {@code otherIdle} for everything else) and returns how many went. The programs keep no
   * timers: the agent calls this periodically (Cilium's defaults are 6 h and 60 s).
   */
  public synchronized int collectConntrack(java.time.Duration tcpIdle, java.time.Duration otherIdle)
      throws DatapathException {
    long now = System.nanoTime(); // CLOCK_MONOTONIC on Linux, the clock of bpf_ktime_get_ns
    long tcpLimit = tcpIdle.toNanos();
    long otherLimit = otherIdle.toNanos();
    try (Arena arena = Arena.ofConfined()) {
      List<MemorySegment> expired = new ArrayList<>();
      conntrack.forEach(arena, (k, v) -> {
        boolean tcp = (k.get(JAVA_BYTE, 12) & 0xff) == Protocol.TCP.ipProtocolNumber();
        if (now - v.get(JAVA_LONG, 0) > (tcp ? tcpLimit : otherLimit)) expired.add(k);
      });
      if (expired.isEmpty()) return 0;
      long size = CT_KEY.byteSize();
      MemorySegment keys = arena.allocate(size * expired.size(), 8);
      for (int i = 0; i < expired.size(); i++) keys.asSlice(i * size, size).copyFrom(expired.get(i));
      conntrack.deleteAll(keys, expired.size());
      return expired.size();
    }
  }

  /** Entries in the conntrack map (for inspection). */
  public synchronized int conntrackEntries() throws DatapathException {
    try (Arena arena = Arena.ofConfined()) {
      return conntrack.keys(arena).size();
    }
  }

  /**
   * Removes everything of this node from the kernel: programs from its devices, the VXLAN device
   * and all pins (used when a node leaves, and by tests). The datapath is closed afterwards.
   */
  public synchronized void destroy() throws DatapathException {
    if (closed) {
      throw new DatapathException("datapath of node " + config.nodeName() + " is closed: open it again to destroy it");
    }
    try (Arena arena = Arena.ofConfined()) {
      for (MemorySegment k : endpoints.keys(arena)) {
        MemorySegment v = endpoints.newValue(arena);
        if (endpoints.lookup(k, v)) {
          try {
            network.detach(ifname(v));
          } catch (DatapathException e) {
            log.warn("node {}: {}", config.nodeName(), e.getMessage());
          }
        }
      }
    }
    for (String device : config.externalDevices()) {
      try {
        network.detach(device);
      } catch (DatapathException e) {
        log.warn("node {}: {}", config.nodeName(), e.getMessage());
      }
    }
    if (network.links().containsKey(config.vxlanDevice())) {
      network.run("ip", "link", "del", config.vxlanDevice());
    }
    close();
    try {
      Path dir = config.nodeDirectory();
      if (Files.isDirectory(progs)) {
        try (var list = Files.list(progs)) {
          for (Path p : list.toList()) Files.delete(p);
        }
        Files.delete(progs);
      }
      for (BpfMap.Spec spec : mapSpecs(config.mapSizes())) Files.deleteIfExists(dir.resolve(spec.name()));
      Files.deleteIfExists(dir);
    } catch (IOException e) {
      throw new DatapathException("cannot remove the pins of node " + config.nodeName() + ": " + e, e);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    maps.forEach(BpfMap::close);
  }

  @Override
  public String toString() {
    return "BpfDatapath[node " + config.nodeName() + " at " + config.nodeDirectory() + "]";
  }
}
