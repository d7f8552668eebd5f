package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.meshwork.datapath.Endpoint;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.proto.v1.Attachment;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EndpointManagerTest {
  private static final IpPrefix CIDR = IpPrefix.parse("10.1.0.0/24");

  @TempDir Path stateDir;
  private final FakeLinkManager links = new FakeLinkManager();
  private final FakeIdentityResolver identities = new FakeIdentityResolver();
  private FakeDatapath datapath = new FakeDatapath();
  private EndpointManager manager;

  @BeforeEach
  void open() throws Exception {
    manager = reopen(CIDR, Duration.ofMillis(200));
  }

  private EndpointManager reopen(IpPrefix cidr, Duration identityTimeout) throws Exception {
    return EndpointManager.open(new EndpointConfig(cidr, stateDir, 1450, identityTimeout), links, identities,
        new DatapathEndpointSink(datapath));
  }

  /** A pod sandbox with its namespace and identity, as kubelet would ADD it. */
  private CniRequest pod(String name) {
    String netns = "/var/run/netns/cni-" + name;
    links.createNamespace(netns, "lo");
    PodRef ref = new PodRef("default", name);
    identities.publish(ref, new PodIdentity(1000 + Math.abs(name.hashCode() % 1000), List.of("k8s:app=" + name)));
    return request("ctr-" + name, netns, ref);
  }

  private static CniRequest request(String containerId, String netns, PodRef pod) {
    return CniRequest.newBuilder().setContainerId(containerId).setNetns(netns).setIfname("eth0")
        .setNetworkName("meshwork").setCniVersion("1.1.0")
        .putArgs("K8S_POD_NAMESPACE", pod.namespace()).putArgs("K8S_POD_NAME", pod.name())
        .setConfigJson(ByteString.copyFromUtf8("{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\",\"type\":\"meshwork-cni\"}"))
        .build();
  }

  private static String address(CniResult result) {
    return result.getIps(0).getAddress();
  }

  private static int ipOf(CniResult result) {
    return IpPrefix.parse(address(result)).address();
  }

  @Test
  void addsPodWithAddressAfterGatewayAndProgramsTheDatapath() throws Exception {
    CniResult result = manager.add(pod("web"));

    assertThat(result.getIps(0).getAddress()).isEqualTo("10.1.0.2/32");
    assertThat(result.getIps(0).getGateway()).isEqualTo("10.1.0.1");
    assertThat(result.getIps(0).getInterfaceIndex()).isEqualTo(1);
    assertThat(result.getInterfaces(1).getName()).isEqualTo("eth0");
    assertThat(result.getInterfaces(1).getSandbox()).isEqualTo("/var/run/netns/cni-web");
    assertThat(result.getInterfaces(1).getMtu()).isEqualTo(1450);
    assertThat(result.getRoutes(0).getDst()).isEqualTo("0.0.0.0/0");
    String hostInterface = result.getInterfaces(0).getName();
    assertThat(hostInterface).startsWith("mw").hasSizeLessThanOrEqualTo(15);
    Endpoint programmed = datapath.snapshot().endpoints().get(Ipv4.parse("10.1.0.2"));
    assertThat(programmed.hostInterface()).isEqualTo(hostInterface);
    assertThat(programmed.identity()).isEqualTo(1000 + Math.abs("web".hashCode() % 1000));
    PodLink link = links.links().get(hostInterface);
    assertThat(link.gateway()).isEqualTo(Ipv4.parse("10.1.0.1"));
    assertThat(link.podInterface()).isEqualTo("eth0");
    assertThat(link.hostMac()).isEqualTo(result.getInterfaces(0).getMac());
  }

  @Test
  void describesEndpointsForTheEndpointList() throws Exception {
    CniResult result = manager.add(pod("listed"));

    assertThat(manager.describe()).singleElement().satisfies(info -> {
      assertThat(info.getIpv4()).isEqualTo(address(result).replace("/32", ""));
      assertThat(info.getStatus()).isEqualTo("ready");
      assertThat(info.getPodNamespace() + "/" + info.getPodName()).isEqualTo("default/listed");
      assertThat(info.getContainerId()).isEqualTo("ctr-listed");
      assertThat(info.getHostInterface()).isEqualTo(result.getInterfaces(0).getName());
      assertThat(info.getLabelsList()).containsExactly("k8s:app=listed");
      assertThat(info.getIdentity()).isEqualTo(1000 + Math.abs("listed".hashCode() % 1000));
    });
  }

  @Test
  void takesTheMtuFromTheNetworkConfiguration() throws Exception {
    CniRequest request = pod("mtu").toBuilder()
        .setConfigJson(ByteString.copyFromUtf8("{\"name\":\"meshwork\",\"mtu\":1400}")).build();

    assertThat(manager.add(request).getInterfaces(1).getMtu()).isEqualTo(1400);
  }

  @Test
  void rejectsAnMtuOutOfRangeAsInvalidConfiguration() {
    CniRequest request = pod("badmtu").toBuilder()
        .setConfigJson(ByteString.copyFromUtf8("{\"name\":\"meshwork\",\"mtu\":20}")).build();

    assertThatThrownBy(() -> manager.add(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(7);
      assertThat(e.details()).contains("ctr-badmtu").contains("68..65535");
    });
  }

  @Test
  void addingAnAttachmentTwiceFailsAndKeepsTheFirst() throws Exception {
    CniRequest request = pod("twice");
    CniResult first = manager.add(request);

    assertThatThrownBy(() -> manager.add(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.ALREADY_EXISTS);
      assertThat(e.getMessage()).contains("ctr-twice").contains("eth0");
    });
    assertThat(datapath.snapshot().endpoints()).containsKey(ipOf(first));
    assertThat(manager.endpoints()).hasSize(1);
  }

  @Test
  void addFailsWhenTheContainerAlreadyHasAnInterfaceOfThatName() {
    CniRequest request = pod("taken");
    links.createNamespace(request.getNetns(), "lo", "eth0");

    assertThatThrownBy(() -> manager.add(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.ALREADY_EXISTS);
      assertThat(e.getMessage()).contains("eth0").contains(request.getNetns());
    });
    assertThat(manager.endpoints()).isEmpty();
  }

  @Test
  void aRuntimeThatPassesOnlyThePodsNameAddsItInTheDefaultNamespace() throws Exception {
    // podman's CNI backend passes K8S_POD_NAME (the container name) and no namespace
    CniRequest request = pod("lonely").toBuilder().removeArgs("K8S_POD_NAMESPACE").build();

    manager.add(request);

    assertThat(manager.describe()).singleElement().satisfies(e -> {
      assertThat(e.getPodNamespace()).isEqualTo("default");
      assertThat(e.getPodName()).isEqualTo("lonely");
    });
  }

  @Test
  void addWithoutThePodsNameInCniArgsIsAnInvalidEnvironment() {
    CniRequest request = pod("anon").toBuilder().removeArgs("K8S_POD_NAME").build();

    assertThatThrownBy(() -> manager.add(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(4);
      assertThat(e.getMessage()).contains("K8S_POD_NAME");
    });
  }

  @Test
  void addWaitsForTheIdentityAndFailsWhenNoneArrivesInTime() throws Exception {
    links.createNamespace("/var/run/netns/cni-late", "lo");
    CniRequest request = request("ctr-late", "/var/run/netns/cni-late", new PodRef("default", "late"));

    assertThatThrownBy(() -> manager.add(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.NO_IDENTITY);
      assertThat(e.getMessage()).contains("default/late");
    });
    assertThat(manager.endpoints()).isEmpty();
    assertThat(links.links()).isEmpty();
    assertThat(manager.ipam().allocated()).isZero();
  }

  @Test
  void addSucceedsWhenTheIdentityIsPublishedWhileItWaits() throws Exception {
    manager = reopen(CIDR, Duration.ofSeconds(10));
    links.createNamespace("/var/run/netns/cni-slow", "lo");
    PodRef slow = new PodRef("default", "slow");
    try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
      Future<CniResult> add = executor.submit(() -> manager.add(request("ctr-slow", "/var/run/netns/cni-slow", slow)));
      await().atMost(Duration.ofSeconds(5)).until(() -> identities.waiting() == 1);
      assertThat(add).isNotDone();
      identities.publish(slow, new PodIdentity(4242, List.of("k8s:app=slow")));

      assertThat(datapathIdentity(ipOf(add.get()))).isEqualTo(4242);
    }
  }

  private int datapathIdentity(int ip) {
    return datapath.snapshot().endpoints().get(ip).identity();
  }

  @Test
  void failedInterfaceSetUpIsRolledBackAndFreesTheAddress() throws Exception {
    links.failNextSetUp("RTNETLINK answers: Operation not permitted");

    assertThatThrownBy(() -> manager.add(pod("broken"))).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.LINK_FAILED);
      assertThat(e.details()).contains("default/broken").contains("Operation not permitted");
    });
    assertThat(links.links()).isEmpty();
    assertThat(manager.endpoints()).isEmpty();
    assertThat(stateDir).isEmptyDirectory();
    assertThat(manager.ipam().allocated()).isZero();
  }

  @Test
  void deleteSucceedsAHundredTimesInARow() throws Exception {
    CniRequest request = pod("many");
    CniResult added = manager.add(request);

    for (int i = 0; i < 100; i++) {
      manager.delete(request);
    }

    assertThat(datapath.snapshot().endpoints()).doesNotContainKey(ipOf(added));
    assertThat(links.links()).isEmpty();
    assertThat(manager.endpoints()).isEmpty();
    assertThat(stateDir).isEmptyDirectory();
  }

  @Test
  void deleteSucceedsWhenTheNamespaceIsGoneAndFreesEverything() throws Exception {
    CniRequest request = pod("gone");
    manager.add(request);
    links.destroyNamespace(request.getNetns());

    manager.delete(request.toBuilder().setNetns("").build());

    assertThat(datapath.snapshot().endpoints()).isEmpty();
    assertThat(manager.ipam().allocated()).isZero();
  }

  @Test
  void deleteSucceedsAfterAFailedAdd() throws Exception {
    CniRequest request = pod("failed");
    links.failNextSetUp("boom");
    assertThatThrownBy(() -> manager.add(request)).isInstanceOf(CniFailure.class);

    manager.delete(request);
    manager.delete(request);

    assertThat(manager.endpoints()).isEmpty();
  }

  @Test
  void deleteOfAContainerNeverSeenSucceeds() throws Exception {
    manager.delete(request("ctr-unknown", "", new PodRef("default", "unknown")));

    assertThat(manager.endpoints()).isEmpty();
  }

  @Test
  void releasedAddressesAreNotReusedImmediately() throws Exception {
    CniRequest first = pod("one");
    int firstIp = ipOf(manager.add(first));
    manager.delete(first);

    assertThat(ipOf(manager.add(pod("two")))).isNotEqualTo(firstIp);
  }

  @Test
  void restartRestoresEndpointsIntoTheDatapathAndNeverReusesTheirAddresses() throws Exception {
    int a = ipOf(manager.add(pod("a")));
    int b = ipOf(manager.add(pod("b")));

    datapath = new FakeDatapath(); // the agent restarts with an empty datapath view
    manager = reopen(CIDR, Duration.ofMillis(200));

    assertThat(datapath.snapshot().endpoints()).containsOnlyKeys(a, b);
    assertThat(manager.endpoints()).extracting(r -> r.pod().name()).containsExactlyInAnyOrder("a", "b");
    Set<Integer> later = new HashSet<>();
    for (int i = 0; i < 20; i++) {
      later.add(ipOf(manager.add(pod("later" + i))));
    }
    assertThat(later).doesNotContain(a, b).hasSize(20);
  }

  @Test
  void anAddInterruptedByACrashKeepsItsAddressUntilDeleted() throws Exception {
    EndpointStore store = new EndpointStore(stateDir);
    int crashedIp = Ipv4.parse("10.1.0.2");
    AttachmentKey key = new AttachmentKey("ctr-crashed", "eth0");
    store.write(new EndpointRecord(key, "meshwork", "/var/run/netns/cni-crashed", new PodRef("default", "crashed"), 7,
        crashedIp, EndpointManager.hostInterfaceOf(key), "0e:00:00:00:00:01", "0a:58:0a:01:00:02", 1450, 0, List.of(),
        EndpointRecord.Phase.RESERVED));

    manager = reopen(CIDR, Duration.ofMillis(200));

    assertThat(datapath.snapshot().endpoints()).isEmpty();
    assertThat(ipOf(manager.add(pod("next")))).isNotEqualTo(crashedIp);
    manager.delete(request("ctr-crashed", "", new PodRef("default", "crashed")));
    assertThat(manager.endpoints()).extracting(r -> r.key().containerId()).containsExactly("ctr-next");
  }

  @Test
  void garbageCollectionRemovesOnlyEndpointsOfThisNetworkMissingFromTheValidAttachments() throws Exception {
    CniRequest keep = pod("keep");
    int keepIp = ipOf(manager.add(keep));
    int staleIp = ipOf(manager.add(pod("stale")));
    CniRequest other = pod("other").toBuilder().setNetworkName("another-network").build();
    manager.add(other);

    manager.garbageCollect(CniRequest.newBuilder().setNetworkName("meshwork").setCniVersion("1.1.0")
        .addValidAttachments(Attachment.newBuilder().setContainerId("ctr-keep").setIfname("eth0")).build());

    assertThat(manager.endpoints()).extracting(r -> r.key().containerId()).containsExactlyInAnyOrder("ctr-keep", "ctr-other");
    assertThat(datapath.snapshot().endpoints()).containsKey(keepIp).doesNotContainKey(staleIp);
  }

  @Test
  void afterARestartEndpointsAreRestoredBeforeGarbageCollectionRemovesTheStaleOnes() throws Exception {
    int keep = ipOf(manager.add(pod("keep")));
    manager.add(pod("stale"));
    datapath = new FakeDatapath();
    manager = reopen(CIDR, Duration.ofMillis(200));

    manager.garbageCollect(CniRequest.newBuilder().setNetworkName("meshwork")
        .addValidAttachments(Attachment.newBuilder().setContainerId("ctr-keep").setIfname("eth0")).build());

    assertThat(datapath.snapshot().endpoints()).containsOnlyKeys(keep);
    assertThat(links.links()).hasSize(1);
  }

  @Test
  void checkPassesForAnEndpointAsAdded() throws Exception {
    CniRequest request = pod("healthy");
    manager.add(request);

    manager.check(request);
  }

  @Test
  void checkComparesTheRuntimesPrevResultWithTheEndpoint() throws Exception {
    CniRequest request = pod("prev");
    String address = address(manager.add(request));
    String config = "{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\",\"prevResult\":{\"ips\":[{\"address\":\"%s\"}]}}";

    manager.check(request.toBuilder().setConfigJson(ByteString.copyFromUtf8(config.formatted(address))).build());
    assertThatThrownBy(() -> manager.check(
        request.toBuilder().setConfigJson(ByteString.copyFromUtf8(config.formatted("10.1.0.200/32"))).build()))
        .isInstanceOfSatisfying(CniFailure.class, e -> {
          assertThat(e.code()).isEqualTo(CniFailure.CHECK_FAILED);
          assertThat(e.details()).contains("prevResult lists [10.1.0.200/32] but the endpoint has " + address);
        });
  }

  @Test
  void checkAcceptsEnforcementFlagsThatThePolicyReconcilerSet() throws Exception {
    CniRequest request = pod("enforced");
    int ip = ipOf(manager.add(request));
    Endpoint added = datapath.snapshot().endpoints().get(ip);
    new DatapathEndpointSink(datapath).upsert(
        new Endpoint(added.id(), added.ip(), added.hostInterface(), added.identity(), true, true));

    manager.check(request);
  }

  @Test
  void checkOfAnUnknownContainerIsCode3() {
    assertThatThrownBy(() -> manager.check(request("ctr-nope", "/var/run/netns/x", new PodRef("default", "nope"))))
        .isInstanceOfSatisfying(CniFailure.class, e -> assertThat(e.code()).isEqualTo(3));
  }

  @Test
  void checkReportsAMissingDatapathEntry() throws Exception {
    CniRequest request = pod("unprogrammed");
    int ip = ipOf(manager.add(request));
    new DatapathEndpointSink(datapath).delete(ip);

    assertThatThrownBy(() -> manager.check(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.CHECK_FAILED);
      assertThat(e.details()).contains("datapath has no endpoint for " + Ipv4.format(ip));
    });
  }

  @Test
  void checkReportsAnInterfaceThatNoLongerMatches() throws Exception {
    CniRequest request = pod("tampered");
    CniResult result = manager.add(request);
    links.breakAddress(result.getInterfaces(0).getName());

    assertThatThrownBy(() -> manager.check(request)).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.CHECK_FAILED);
      assertThat(e.getMessage()).contains("default/tampered");
    });
  }

  @Test
  void statusIsReadyUntilThePodCidrIsFullAndAddThenFailsWithNoAddress() throws Exception {
    manager = reopen(IpPrefix.parse("10.9.0.0/29"), Duration.ofMillis(200)); // gateway + 5 pod addresses
    manager.status();
    for (int i = 0; i < 5; i++) {
      manager.add(pod("p" + i));
    }

    assertThatThrownBy(() -> manager.status())
        .isInstanceOfSatisfying(CniFailure.class, e -> assertThat(e.code()).isEqualTo(50));
    assertThatThrownBy(() -> manager.add(pod("p5"))).isInstanceOfSatisfying(CniFailure.class, e -> {
      assertThat(e.code()).isEqualTo(CniFailure.NO_ADDRESS);
      assertThat(e.details()).contains("10.9.0.0/29");
    });
  }

  @Test
  void concurrentAddsGetDistinctAddresses() throws Exception {
    List<CniRequest> requests = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      requests.add(pod("c" + i));
    }
    List<Future<CniResult>> results = new ArrayList<>();
    try (var executor = Executors.newFixedThreadPool(8)) {
      for (CniRequest r : requests) {
        results.add(executor.submit(() -> manager.add(r)));
      }
      Set<String> addresses = new HashSet<>();
      for (Future<CniResult> f : results) {
        addresses.add(address(f.get()));
      }
      assertThat(addresses).hasSize(40);
    }
    assertThat(datapath.snapshot().endpoints()).hasSize(40);
  }
}
