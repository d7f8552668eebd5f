package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.DatapathException;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.proto.v1.Attachment;
import dev.meshwork.proto.v1.CniDns;
import dev.meshwork.proto.v1.CniInterface;
import dev.meshwork.proto.v1.CniIpConfig;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.CniRoute;
import dev.meshwork.proto.v1.EndpointInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * The pods of this node: turns CNI ADD/DEL/CHECK/STATUS/GC into addresses (host-scope IPAM),
 * veth pairs ({@link LinkManager}), persisted records ({@link EndpointStore}) and datapath
 * endpoints ({@link EndpointSink}).
 *
 * <p>Every address is persisted (as a RESERVED record) before any interface is created and is
 * released only after the interface and the datapath entry are gone, so no address is handed out
 * twice, across restarts too. {@link #open} restores every record from disk and re-programs the
 * datapath before it returns: nothing can be removed before the restore is complete.
 *
 * <p>Calls for one attachment are serialised; calls for different attachments run in parallel
 * (only the IPAM and the record table are shared, under a short lock).
 */
public final class EndpointManager {
  private static final Logger log = LoggerFactory.getLogger(EndpointManager.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int LOCK_STRIPES = 256;

  private final EndpointConfig config;
  private final LinkManager links;
  private final IdentityResolver identities;
  private final EndpointSink sink;
  private final EndpointStore store;
  private final HostIpam ipam;
  private final ReentrantLock stateLock = new ReentrantLock();
  private final Map<AttachmentKey, EndpointRecord> records = new LinkedHashMap<>();
  private final ReentrantLock[] attachmentLocks = new ReentrantLock[LOCK_STRIPES];
  private long nextEndpointId = 1;

  private EndpointManager(EndpointConfig config, LinkManager links, IdentityResolver identities, EndpointSink sink) {
    this.config = config;
    this.links = links;
    this.identities = identities;
    this.sink = sink;
    this.store = new EndpointStore(config.stateDir());
    this.ipam = new HostIpam(config.podCidr());
    for (int i = 0; i < LOCK_STRIPES; i++) {
      attachmentLocks[i] = new ReentrantLock();
    }
  }

  /**
   * Opens the state directory, restores every endpoint recorded there (addresses reserved, READY
   * endpoints programmed into {@code sink} again) and returns the manager ready for CNI calls.
   */
  public static EndpointManager open(EndpointConfig config, LinkManager links, IdentityResolver identities,
      EndpointSink sink) throws IOException, DatapathException {
    EndpointManager manager = new EndpointManager(config, links, identities, sink);
    manager.restore();
    return manager;
  }

  private void restore() throws IOException, DatapathException {
    int ready = 0;
    int reserved = 0;
    for (EndpointRecord record : store.loadAll()) {
      if (!ipam.reserve(record.ip())) {
        // kept (so that DEL or GC can still clean its interface up) but its address is not ours to track
        log.error("restored {} with address {} outside {} or already taken: kept for DEL/GC, address not reserved",
            record.key(), Ipv4.format(record.ip()), ipam);
      }
      records.put(record.key(), record);
      nextEndpointId = Math.max(nextEndpointId, record.endpointId() + 1);
      if (record.phase() == EndpointRecord.Phase.READY) {
        sink.upsert(endpointOf(record));
        ready++;
      } else {
        reserved++;
      }
    }
    log.info("restored {} endpoints and {} unfinished ADDs from {}; {}", ready, reserved, store.dir(), ipam);
  }

  /** CNI ADD: returns the result the plugin prints. */
  public CniResult add(CniRequest request) throws CniFailure {
    AttachmentKey key = keyOf(request);
    requireNonEmpty(request.getNetns(), "CNI_NETNS", key);
    PodRef pod = podOf(request, key);
    int mtu = mtuOf(request, key);
    ReentrantLock lock = lockOf(key);
    lock.lock();
    try {
      EndpointRecord existing = record(key);
      if (existing != null && existing.phase() == EndpointRecord.Phase.READY) {
        throw new CniFailure(CniFailure.ALREADY_EXISTS, key + " already exists",
            "it was added for " + existing.pod() + " with address " + Ipv4.format(existing.ip())
                + "; the runtime must DEL it before adding it again");
      }
      if (existing != null) {
        log.info("{}: cleaning up an ADD that did not finish before adding again", key);
        remove(existing);
      }
      if (podInterfaceExists(request.getNetns(), request.getIfname(), key)) {
        throw new CniFailure(CniFailure.ALREADY_EXISTS,
            "interface " + request.getIfname() + " already exists in " + request.getNetns(),
            key + " of " + pod + ": the container already has an interface of that name");
      }
      PodIdentity identity = awaitIdentity(pod, key);
      EndpointRecord reservedRecord = reserve(request, key, pod, mtu);
      try {
        PodLink link = linkOf(reservedRecord);
        try {
          links.setUp(link);
        } catch (LinkException e) {
          throw new CniFailure(CniFailure.LINK_FAILED, "cannot set up the interfaces of " + key,
              pod + ": " + e.getMessage(), e);
        }
        EndpointRecord readyRecord = reservedRecord.ready(identity);
        try {
          sink.upsert(endpointOf(readyRecord));
        } catch (DatapathException | RuntimeException e) {
          throw new CniFailure(CniFailure.DATAPATH_FAILED, "cannot program the datapath for " + key,
              pod + " address " + Ipv4.format(readyRecord.ip()) + ": " + e.getMessage(), e);
        }
        persist(readyRecord);
        log.info("added {} for {}: {} on {} identity {}", key, pod, Ipv4.format(readyRecord.ip()),
            readyRecord.hostInterface(), identity.id());
        return resultOf(readyRecord);
      } catch (CniFailure e) {
        rollBack(reservedRecord, e);
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  /** CNI DEL: removes whatever exists of the attachment; succeeds when nothing is left. */
  public void delete(CniRequest request) throws CniFailure {
    AttachmentKey key = keyOf(request);
    ReentrantLock lock = lockOf(key);
    lock.lock();
    try {
      EndpointRecord record = record(key);
      if (record == null) {
        log.debug("DEL of {}: nothing recorded, nothing to do", key);
        return;
      }
      remove(record);
      log.info("deleted {} ({} on {})", key, Ipv4.format(record.ip()), record.hostInterface());
    } finally {
      lock.unlock();
    }
  }

  /** CNI CHECK: the attachment's interfaces, routes and datapath entry are as ADD left them. */
  public void check(CniRequest request) throws CniFailure {
    AttachmentKey key = keyOf(request);
    ReentrantLock lock = lockOf(key);
    lock.lock();
    try {
      EndpointRecord record = record(key);
      if (record == null || record.phase() != EndpointRecord.Phase.READY) {
        throw new CniFailure(CniFailure.UNKNOWN_CONTAINER, "unknown " + key,
            "this node has no endpoint for it" + (record == null ? "" : " (its ADD did not finish)"));
      }
      List<String> problems = new ArrayList<>();
      if (!request.getNetns().isEmpty() && !request.getNetns().equals(record.netns())) {
        problems.add("netns is " + request.getNetns() + " but the endpoint was added in " + record.netns());
      }
      problems.addAll(prevResultDifferences(request, record));
      try {
        problems.addAll(links.verify(linkOf(record)));
      } catch (LinkException e) {
        throw new CniFailure(CniFailure.LINK_FAILED, "cannot inspect the interfaces of " + key, e.getMessage(), e);
      }
      Endpoint expected = endpointOf(record);
      try {
        Optional<Endpoint> programmed = sink.programmed(record.ip());
        if (programmed.isEmpty()) {
          problems.add("datapath has no endpoint for " + Ipv4.format(record.ip()));
        } else if (!sameEndpoint(programmed.get(), expected)) {
          problems.add("datapath holds " + programmed.get() + ", expected " + expected);
        }
      } catch (DatapathException | RuntimeException e) {
        throw new CniFailure(CniFailure.DATAPATH_FAILED, "cannot read the datapath for " + key, e.getMessage(), e);
      }
      if (!problems.isEmpty()) {
        throw new CniFailure(CniFailure.CHECK_FAILED, key + " of " + record.pod() + " is not as it was added",
            String.join("; ", problems));
      }
    } finally {
      lock.unlock();
    }
  }

  /** CNI STATUS: whether an ADD could succeed now. */
  public void status() throws CniFailure {
    stateLock.lock();
    try {
      if (ipam.allocatedCount() >= ipam.capacity()) {
        throw new CniFailure(CniFailure.NOT_AVAILABLE, "no free pod address on this node",
            "all " + ipam.capacity() + " addresses of " + ipam.cidr() + " are in use");
      }
    } finally {
      stateLock.unlock();
    }
  }

  /** CNI GC: removes every endpoint of the request's network that is not a valid attachment. */
  public void garbageCollect(CniRequest request) throws CniFailure {
    Set<AttachmentKey> valid = new HashSet<>();
    for (Attachment a : request.getValidAttachmentsList()) {
      valid.add(new AttachmentKey(a.getContainerId(), a.getIfname()));
    }
    List<EndpointRecord> stale = new ArrayList<>();
    for (EndpointRecord r : endpoints()) {
      if (r.networkName().equals(request.getNetworkName()) && !valid.contains(r.key())) {
        stale.add(r);
      }
    }
    List<String> failures = new ArrayList<>();
    int firstCode = 0;
    for (EndpointRecord r : stale) {
      ReentrantLock lock = lockOf(r.key());
      lock.lock();
      try {
        EndpointRecord current = record(r.key());
        if (current != null) {
          remove(current);
          log.info("GC removed {} ({} of {})", r.key(), Ipv4.format(r.ip()), r.pod());
        }
      } catch (CniFailure e) {
        firstCode = firstCode == 0 ? e.code() : firstCode;
        failures.add(e.getMessage() + ": " + e.details());
      } finally {
        lock.unlock();
      }
    }
    if (!failures.isEmpty()) {
      throw new CniFailure(firstCode, "GC could not remove " + failures.size() + " of " + stale.size() + " stale endpoints",
          String.join("; ", failures));
    }
  }

  /** Every endpoint this node has, including unfinished ADDs. */
  public List<EndpointRecord> endpoints() {
    stateLock.lock();
    try {
      return List.copyOf(records.values());
    } finally {
      stateLock.unlock();
    }
  }

  /** The endpoints for {@code InspectionService.ListEndpoints} ({@code meshwork endpoint list}). */
  public List<EndpointInfo> describe() {
    List<EndpointInfo> infos = new ArrayList<>();
    for (EndpointRecord r : endpoints()) {
      infos.add(EndpointInfo.newBuilder()
          .setId(r.endpointId())
          .setIdentity(r.identity())
          .addAllLabels(r.labels())
          .setIpv4(Ipv4.format(r.ip()))
          .setStatus(r.phase() == EndpointRecord.Phase.READY ? "ready" : "not-ready")
          .setPodNamespace(r.pod().namespace())
          .setPodName(r.pod().name())
          .setContainerId(r.key().containerId())
          .setHostInterface(r.hostInterface())
          .build());
    }
    return infos;
  }

  public HostIpamView ipam() {
    stateLock.lock();
    try {
      return new HostIpamView(ipam.cidr().toString(), Ipv4.format(ipam.gateway()), ipam.capacity(), ipam.allocatedCount());
    } finally {
      stateLock.unlock();
    }
  }

  /** The IPAM's state for inspection. */
  public record HostIpamView(String cidr, String gateway, int capacity, int allocated) {}

  /** The host-side interface name of an attachment: "mw" and 12 hex digits of a hash (Linux allows 15). */
  public static String hostInterfaceOf(AttachmentKey key) {
    return "mw" + HexFormat.of().formatHex(hash(key), 0, 6);
  }

  // ---- steps -------------------------------------------------------------------------------

  private EndpointRecord reserve(CniRequest request, AttachmentKey key, PodRef pod, int mtu) throws CniFailure {
    EndpointRecord record;
    stateLock.lock();
    try {
      OptionalInt ip = ipam.allocate();
      if (ip.isEmpty()) {
        throw new CniFailure(CniFailure.NO_ADDRESS, "no free pod address for " + key,
            pod + ": all " + ipam.capacity() + " addresses of " + ipam.cidr() + " are in use");
      }
      byte[] hash = hash(key);
      String hostMac = "0e:" + HexFormat.ofDelimiter(":").formatHex(hash, 6, 11);
      int a = ip.getAsInt();
      String podMac = String.format("0a:58:%02x:%02x:%02x:%02x", a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
      record = new EndpointRecord(key, request.getNetworkName(), request.getNetns(), pod, nextEndpointId++, a,
          hostInterfaceOf(key), hostMac, podMac, mtu, 0, List.of(), EndpointRecord.Phase.RESERVED);
      records.put(key, record);
    } finally {
      stateLock.unlock();
    }
    try {
      store.write(record);
    } catch (IOException e) {
      forget(record);
      throw new CniFailure(CniFailure.STATE_FAILED, "cannot record the address of " + key,
          pod + ": writing " + store.dir() + " failed: " + e.getMessage(), e);
    }
    return record;
  }

  private void persist(EndpointRecord record) throws CniFailure {
    try {
      store.write(record);
      stateLock.lock();
      try {
        records.put(record.key(), record);
      } finally {
        stateLock.unlock();
      }
    } catch (IOException e) {
      throw new CniFailure(CniFailure.STATE_FAILED, "cannot record " + record.key(),
          record.pod() + ": writing " + store.dir() + " failed: " + e.getMessage(), e);
    }
  }

  /** Undoes a failed ADD; a failure here is logged (the runtime's DEL will try again). */
  private void rollBack(EndpointRecord record, CniFailure cause) {
    try {
      remove(record);
    } catch (CniFailure e) {
      cause.addSuppressed(e);
      log.warn("{}: rolling back the failed ADD failed too ({}); DEL or GC will finish it", record.key(), e.getMessage());
    }
  }

  /** Datapath entry, interfaces, record, address: in this order, so the address is freed last. */
  private void remove(EndpointRecord record) throws CniFailure {
    try {
      sink.delete(record.ip());
    } catch (DatapathException | RuntimeException e) {
      throw new CniFailure(CniFailure.DATAPATH_FAILED, "cannot remove " + record.key() + " from the datapath",
          record.pod() + " address " + Ipv4.format(record.ip()) + ": " + e.getMessage(), e);
    }
    try {
      links.remove(record.hostInterface());
    } catch (LinkException e) {
      throw new CniFailure(CniFailure.LINK_FAILED, "cannot remove the interfaces of " + record.key(),
          record.pod() + ": " + e.getMessage(), e);
    }
    try {
      store.delete(record.key());
    } catch (IOException e) {
      throw new CniFailure(CniFailure.STATE_FAILED, "cannot remove the record of " + record.key(),
          record.pod() + ": " + store.dir() + ": " + e.getMessage(), e);
    }
    forget(record);
  }

  private void forget(EndpointRecord record) {
    stateLock.lock();
    try {
      EndpointRecord current = records.get(record.key());
      if (current != null && current.ip() == record.ip()) {
        records.remove(record.key());
      }
      boolean stillUsed = records.values().stream().anyMatch(r -> r.ip() == record.ip());
      if (!stillUsed) {
        ipam.release(record.ip());
      }
    } finally {
      stateLock.unlock();
    }
  }

  /** The enforcement flags are the policy reconciler's: CHECK compares what ADD programmed. */
  private static boolean sameEndpoint(Endpoint programmed, Endpoint expected) {
    return programmed.id() == expected.id()
        && programmed.ip() == expected.ip()
        && programmed.hostInterface().equals(expected.hostInterface())
        && programmed.identity() == expected.identity();
  }

  private PodIdentity awaitIdentity(PodRef pod, AttachmentKey key) throws CniFailure {
    try {
      return identities.await(pod, config.identityTimeout()).orElseThrow(() -> new CniFailure(CniFailure.NO_IDENTITY,
          "no security identity for " + pod + " after " + config.identityTimeout().toSeconds() + " s",
          key + ": the operator has not published the pod's identity; is meshwork-operator running?"));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CniFailure(CniFailure.TRY_AGAIN_LATER, "interrupted while waiting for the identity of " + pod,
          key + ": the agent is shutting down", e);
    }
  }

  private boolean podInterfaceExists(String netns, String ifname, AttachmentKey key) throws CniFailure {
    try {
      return links.podInterfaceExists(netns, ifname);
    } catch (LinkException e) {
      throw new CniFailure(CniFailure.LINK_FAILED, "cannot inspect " + netns + " for " + key, e.getMessage(), e);
    }
  }

  private EndpointRecord record(AttachmentKey key) {
    stateLock.lock();
    try {
      return records.get(key);
    } finally {
      stateLock.unlock();
    }
  }

  private PodLink linkOf(EndpointRecord r) {
    return new PodLink(r.hostInterface(), r.hostMac(), r.netns(), r.key().ifname(), r.podMac(), r.ip(), ipam.gateway(), r.mtu());
  }

  private static Endpoint endpointOf(EndpointRecord r) {
    // Policy enforcement is the policy reconciler's decision; a new endpoint starts unenforced.
    return new Endpoint(r.endpointId(), r.ip(), r.hostInterface(), r.identity(), false, false);
  }

  private CniResult resultOf(EndpointRecord r) {
    String gateway = Ipv4.format(ipam.gateway());
    return CniResult.newBuilder()
        .addInterfaces(CniInterface.newBuilder().setName(r.hostInterface()).setMac(r.hostMac()).setMtu(r.mtu()))
        .addInterfaces(CniInterface.newBuilder().setName(r.key().ifname()).setMac(r.podMac()).setSandbox(r.netns()).setMtu(r.mtu()))
        .addIps(CniIpConfig.newBuilder().setAddress(Ipv4.format(r.ip()) + "/32").setGateway(gateway).setInterfaceIndex(1))
        .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0").setGw(gateway))
        .setDns(CniDns.getDefaultInstance())
        .build();
  }

  private ReentrantLock lockOf(AttachmentKey key) {
    return attachmentLocks[Math.floorMod(key.hashCode(), LOCK_STRIPES)];
  }

  private static AttachmentKey keyOf(CniRequest request) throws CniFailure {
    if (request.getContainerId().isEmpty()) {
      throw new CniFailure(CniFailure.INVALID_ENVIRONMENT, "CNI_CONTAINERID is missing", "every verb but STATUS and GC needs it");
    }
    if (request.getIfname().isEmpty()) {
      throw new CniFailure(CniFailure.INVALID_ENVIRONMENT, "CNI_IFNAME is missing",
          "container " + request.getContainerId() + ": the verb needs the interface name");
    }
    return new AttachmentKey(request.getContainerId(), request.getIfname());
  }

  private static void requireNonEmpty(String value, String variable, AttachmentKey key) throws CniFailure {
    if (value.isEmpty()) {
      throw new CniFailure(CniFailure.INVALID_ENVIRONMENT, variable + " is missing", key + ": ADD needs it");
    }
  }

  /**
   * The pod of an ADD: {@code K8S_POD_NAME} is required; {@code K8S_POD_NAMESPACE} defaults to
   * {@value #DEFAULT_NAMESPACE}, because runtimes outside Kubernetes (podman) pass only the name.
   */
  private static PodRef podOf(CniRequest request, AttachmentKey key) throws CniFailure {
    String namespace = request.getArgsOrDefault("K8S_POD_NAMESPACE", "");
    String name = request.getArgsOrDefault("K8S_POD_NAME", "");
    if (name.isEmpty()) {
      throw new CniFailure(CniFailure.INVALID_ENVIRONMENT, "CNI_ARGS lacks K8S_POD_NAME",
          key + ": the pod's name is needed to find its identity (got CNI_ARGS keys "
              + request.getArgsMap().keySet() + ")");
    }
    return new PodRef(namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace, name);
  }

  /** The namespace of a pod whose runtime passed no {@code K8S_POD_NAMESPACE}. */
  public static final String DEFAULT_NAMESPACE = "default";

  private int mtuOf(CniRequest request, AttachmentKey key) throws CniFailure {
    if (request.getConfigJson().isEmpty()) {
      return config.defaultMtu();
    }
    JsonNode mtu;
    try {
      mtu = JSON.readTree(request.getConfigJson().toByteArray()).path("mtu");
    } catch (JacksonException e) {
      throw new CniFailure(CniFailure.INVALID_CONFIG, "network configuration is not JSON", key + ": " + e.getMessage(), e);
    }
    if (mtu.isMissingNode() || mtu.isNull()) {
      return config.defaultMtu();
    }
    if (!mtu.isInt() || mtu.intValue() < 68 || mtu.intValue() > 65535) {
      throw new CniFailure(CniFailure.INVALID_CONFIG, "network configuration field 'mtu' is invalid",
          key + ": expected an integer 68..65535, got " + mtu);
    }
    return mtu.intValue();
  }

  /** The runtime's cached result of the ADD (CHECK's {@code prevResult}) must name the endpoint's address. */
  private static List<String> prevResultDifferences(CniRequest request, EndpointRecord record) {
    if (request.getConfigJson().isEmpty()) {
      return List.of();
    }
    JsonNode ips;
    try {
      ips = JSON.readTree(request.getConfigJson().toByteArray()).path("prevResult").path("ips");
    } catch (JacksonException e) {
      return List.of("the network configuration is not JSON: " + e.getOriginalMessage());
    }
    if (!ips.isArray() || ips.isEmpty()) {
      return List.of();
    }
    String address = Ipv4.format(record.ip()) + "/32";
    List<String> listed = new ArrayList<>();
    for (JsonNode ip : ips) {
      listed.add(ip.path("address").asString(""));
    }
    return listed.contains(address)
        ? List.of()
        : List.of("prevResult lists " + listed + " but the endpoint has " + address);
  }

  private static byte[] hash(AttachmentKey key) {
    try {
      return MessageDigest.getInstance("SHA-256")
          .digest((key.containerId() + "\0" + key.ifname()).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }
}
