package dev.meshwork.datapath;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.PolicyKey.Direction;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link Datapath} must do, run against each implementation ({@code
 * FakeDatapathTest}, {@code BpfDatapathPrivilegedIT}): what is applied reads back exactly, upserts
 * replace, deletes of absent keys are no-ops, a batch's upserts come before its deletes.
 */
public abstract class DatapathContract {
  protected Datapath datapath;

  /** A fresh, empty datapath. */
  protected abstract Datapath newDatapath() throws Exception;

  /** The name of a host-side interface endpoint {@code n} may use (created if need be). */
  protected String hostInterface(int n) throws Exception {
    return "lxc" + n;
  }

  @BeforeEach
  void openDatapath() throws Exception {
    datapath = newDatapath();
  }

  @AfterEach
  void closeDatapath() {
    if (datapath != null) datapath.close();
  }

  protected static int ip(String dotted) {
    return Ipv4.parse(dotted);
  }

  protected static L4Address tcp(String ip, int port) {
    return new L4Address(Ipv4.parse(ip), port, Protocol.TCP);
  }

  protected static L4Address udp(String ip, int port) {
    return new L4Address(Ipv4.parse(ip), port, Protocol.UDP);
  }

  private void apply(ChangeSet.Builder b) throws DatapathException {
    datapath.apply(b.build());
  }

  @Test
  void startsEmpty() throws Exception {
    assertThat(datapath.snapshot()).isEqualTo(DatapathSnapshot.empty());
  }

  @Test
  void readsBackIpcacheEntriesWithIdentityAndTunnelEndpoint() throws Exception {
    IpCacheEntry pod = new IpCacheEntry(IpPrefix.parse("10.1.1.5/32"), 0x10101, 0);
    IpCacheEntry remoteCidr = new IpCacheEntry(IpPrefix.parse("10.2.0.0/24"), 6, ip("198.18.0.2"));
    IpCacheEntry remotePod = new IpCacheEntry(IpPrefix.parse("10.2.0.7/32"), 0x20105, ip("198.18.0.2"));
    apply(ChangeSet.builder().upsert(pod).upsert(remoteCidr).upsert(remotePod));

    assertThat(datapath.snapshot().ipcache())
        .isEqualTo(Map.of(pod.prefix(), pod, remoteCidr.prefix(), remoteCidr, remotePod.prefix(), remotePod));
  }

  @Test
  void upsertReplacesTheEntryWithTheSameKey() throws Exception {
    IpPrefix prefix = IpPrefix.parse("10.2.0.0/24");
    apply(ChangeSet.builder().upsert(new IpCacheEntry(prefix, 6, ip("198.18.0.2"))));
    apply(ChangeSet.builder().upsert(new IpCacheEntry(prefix, 6, ip("198.18.0.3"))));

    assertThat(datapath.snapshot().ipcache())
        .containsExactly(Map.entry(prefix, new IpCacheEntry(prefix, 6, ip("198.18.0.3"))));
  }

  @Test
  void deletesOfAbsentKeysAreNoOps() throws Exception {
    IpCacheEntry kept = new IpCacheEntry(IpPrefix.parse("10.3.0.0/16"), 6, ip("198.18.0.9"));
    apply(ChangeSet.builder().upsert(kept));
    apply(
        ChangeSet.builder()
            .deleteIpCache(IpPrefix.parse("10.9.0.0/16"))
            .deleteService(tcp("10.96.0.99", 80))
            .deleteEndpoint(ip("10.1.1.99"))
            .revoke(new PolicyKey(ip("10.1.1.99"), Direction.INGRESS, 5, 80, Protocol.TCP)));

    assertThat(datapath.snapshot().ipcache()).containsOnlyKeys(kept.prefix());
  }

  @Test
  void servicesKeepTheirBackendsInSlotOrder() throws Exception {
    Service web =
        new Service(
            tcp("10.96.0.10", 80),
            Service.Kind.CLUSTER_IP,
            1,
            List.of(tcp("10.1.1.5", 8080), tcp("10.2.0.7", 8080), tcp("10.1.1.6", 8080)),
            0);
    Service dns = new Service(udp("10.96.0.53", 53), Service.Kind.CLUSTER_IP, 2, List.of(udp("10.1.1.9", 53)), 10800);
    apply(ChangeSet.builder().upsert(web).upsert(dns));

    assertThat(datapath.snapshot().services()).isEqualTo(Map.of(web.frontend(), web, dns.frontend(), dns));
  }

  @Test
  void shrinkingAServiceRemovesItsStaleBackends() throws Exception {
    L4Address frontend = tcp("10.96.0.10", 80);
    apply(
        ChangeSet.builder()
            .upsert(
                new Service(frontend, Service.Kind.CLUSTER_IP, 1,
                    List.of(tcp("10.1.1.5", 80), tcp("10.1.1.6", 80), tcp("10.1.1.7", 80)), 0)));
    Service shrunk = new Service(frontend, Service.Kind.CLUSTER_IP, 1, List.of(tcp("10.1.1.7", 80)), 0);
    apply(ChangeSet.builder().upsert(shrunk));

    assertThat(datapath.snapshot().services()).containsExactly(Map.entry(frontend, shrunk));
  }

  @Test
  void keepsAServiceWithoutBackends() throws Exception {
    Service empty = new Service(tcp("10.96.0.11", 443), Service.Kind.LOAD_BALANCER, 3, List.of(), 0);
    apply(ChangeSet.builder().upsert(empty));

    assertThat(datapath.snapshot().services()).containsExactly(Map.entry(empty.frontend(), empty));
  }

  @Test
  void servicesSharingBackendsAreIndependent() throws Exception {
    L4Address shared = tcp("10.1.1.5", 8080);
    Service clusterIp = new Service(tcp("10.96.0.10", 80), Service.Kind.CLUSTER_IP, 1, List.of(shared), 0);
    Service nodePort = new Service(tcp("0.0.0.0", 30080), Service.Kind.NODE_PORT, 2, List.of(shared), 0);
    Service external = new Service(tcp("198.18.100.1", 80), Service.Kind.EXTERNAL_IP, 3, List.of(shared), 0);
    apply(ChangeSet.builder().upsert(clusterIp).upsert(nodePort).upsert(external));
    apply(ChangeSet.builder().deleteService(clusterIp.frontend()));

    assertThat(datapath.snapshot().services())
        .isEqualTo(Map.of(nodePort.frontend(), nodePort, external.frontend(), external));
  }

  @Test
  void readsBackEndpointsWithTheirPolicyFlags() throws Exception {
    Endpoint a = new Endpoint(11, ip("10.1.1.5"), hostInterface(1), 0x10101, true, false);
    Endpoint b = new Endpoint(12, ip("10.1.1.6"), hostInterface(2), 0x10102, false, true);
    apply(ChangeSet.builder().upsert(a).upsert(b));
    assertThat(datapath.snapshot().endpoints()).isEqualTo(Map.of(a.ip(), a, b.ip(), b));

    Endpoint aEnforcedBothWays = new Endpoint(11, a.ip(), a.hostInterface(), a.identity(), true, true);
    apply(ChangeSet.builder().upsert(aEnforcedBothWays).deleteEndpoint(b.ip()));
    assertThat(datapath.snapshot().endpoints()).isEqualTo(Map.of(a.ip(), aEnforcedBothWays));
  }

  @Test
  void policyAllowsAndRevokesIncludingWildcards() throws Exception {
    int ep = ip("10.1.1.5");
    PolicyKey exact = new PolicyKey(ep, Direction.INGRESS, 0x20105, 8080, Protocol.TCP);
    PolicyKey anyPort = new PolicyKey(ep, Direction.INGRESS, 0x20106, 0, Protocol.UDP);
    PolicyKey anyIdentity = new PolicyKey(ep, Direction.EGRESS, 0, 53, Protocol.UDP);
    PolicyKey anything = new PolicyKey(ep, Direction.EGRESS, 0x10101, 0, null);
    apply(ChangeSet.builder().allow(exact).allow(anyPort).allow(anyIdentity).allow(anything));
    assertThat(datapath.snapshot().policy()).isEqualTo(Set.of(exact, anyPort, anyIdentity, anything));

    apply(ChangeSet.builder().revoke(anyPort).revoke(anything));
    assertThat(datapath.snapshot().policy()).isEqualTo(Set.of(exact, anyIdentity));
  }

  @Test
  void aBatchAppliesUpsertsBeforeDeletes() throws Exception {
    IpCacheEntry entry = new IpCacheEntry(IpPrefix.parse("10.4.0.0/24"), 6, ip("198.18.0.4"));
    apply(ChangeSet.builder().upsert(entry).deleteIpCache(entry.prefix()));

    assertThat(datapath.snapshot().ipcache()).isEmpty();
  }

  @Test
  void removingEverythingLeavesItEmpty() throws Exception {
    Endpoint a = new Endpoint(11, ip("10.1.1.5"), hostInterface(1), 0x10101, true, true);
    Service web = new Service(tcp("10.96.0.10", 80), Service.Kind.CLUSTER_IP, 1, List.of(tcp("10.1.1.5", 80)), 0);
    IpCacheEntry cidr = new IpCacheEntry(IpPrefix.parse("10.2.0.0/24"), 6, ip("198.18.0.2"));
    PolicyKey allow = new PolicyKey(a.ip(), Direction.INGRESS, 0x20105, 80, Protocol.TCP);
    apply(ChangeSet.builder().upsert(a).upsert(web).upsert(cidr).allow(allow));
    apply(
        ChangeSet.builder()
            .deleteEndpoint(a.ip())
            .deleteService(web.frontend())
            .deleteIpCache(cidr.prefix())
            .revoke(allow));

    assertThat(datapath.snapshot()).isEqualTo(DatapathSnapshot.empty());
  }
}
