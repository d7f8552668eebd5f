package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import org.junit.jupiter.api.Test;

class HostIpamTest {
  @Test
  void gatewayIsTheFirstAddressAndPodsGetTheRestWithoutBroadcast() {
    HostIpam ipam = new HostIpam(IpPrefix.parse("10.4.0.0/29"));

    assertThat(Ipv4.format(ipam.gateway())).isEqualTo("10.4.0.1");
    assertThat(ipam.capacity()).isEqualTo(5);
    for (int i = 2; i <= 6; i++) {
      assertThat(Ipv4.format(ipam.allocate().orElseThrow())).isEqualTo("10.4.0." + i);
    }
    assertThat(ipam.allocate()).isEmpty();
  }

  @Test
  void continuesAfterTheLastAddressBeforeReusingReleasedOnes() {
    HostIpam ipam = new HostIpam(IpPrefix.parse("10.4.0.0/29"));
    int first = ipam.allocate().orElseThrow();
    ipam.release(first);

    assertThat(ipam.allocate().orElseThrow()).isNotEqualTo(first);
    ipam.allocate();
    ipam.allocate();
    ipam.allocate();
    assertThat(ipam.allocate().orElseThrow()).isEqualTo(first); // wrapped around: only then reused
  }

  @Test
  void reservesRestoredAddressesOnceAndRejectsForeignOnes() {
    HostIpam ipam = new HostIpam(IpPrefix.parse("10.4.0.0/24"));

    assertThat(ipam.reserve(Ipv4.parse("10.4.0.9"))).isTrue();
    assertThat(ipam.reserve(Ipv4.parse("10.4.0.9"))).isFalse();
    assertThat(ipam.reserve(Ipv4.parse("10.4.0.1"))).as("the gateway").isFalse();
    assertThat(ipam.reserve(Ipv4.parse("10.5.0.9"))).as("outside the CIDR").isFalse();
    assertThat(Ipv4.format(ipam.allocate().orElseThrow())).isEqualTo("10.4.0.10");
  }

  @Test
  void refusesACidrTooSmallForAGatewayAndPods() {
    assertThatThrownBy(() -> new HostIpam(IpPrefix.parse("10.4.0.0/30")))
        .hasMessageContaining("10.4.0.0/30").hasMessageContaining("/29");
  }
}
