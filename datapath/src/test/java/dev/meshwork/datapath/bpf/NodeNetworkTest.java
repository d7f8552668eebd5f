package dev.meshwork.datapath.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NodeNetworkTest {
  @Test
  void readsNameIfindexAndMacOfEveryLinkFromIpJson() {
    String json = "[{\"ifindex\":1,\"ifname\":\"lo\",\"flags\":[\"LOOPBACK\"],\"mtu\":65536,"
        + "\"link_type\":\"loopback\",\"address\":\"00:00:00:00:00:00\",\"broadcast\":\"00:00:00:00:00:00\"},"
        + "{\"ifindex\":2,\"link\":\"lxc1\",\"ifname\":\"lxc1p\",\"flags\":[\"BROADCAST\"],\"mtu\":1500,"
        + "\"link_type\":\"ether\",\"address\":\"ea:10:77:67:13:f3\",\"broadcast\":\"ff:ff:ff:ff:ff:ff\"},"
        + "{\"ifindex\":3,\"link\":\"lxc1p\",\"ifname\":\"lxc1\",\"flags\":[\"BROADCAST\"],\"mtu\":1500,"
        + "\"link_type\":\"ether\",\"address\":\"46:14:5e:8b:a1:d3\",\"broadcast\":\"ff:ff:ff:ff:ff:ff\"}]";

    var links = NodeNetwork.parseLinks(json);

    assertThat(links).containsOnlyKeys("lo", "lxc1p", "lxc1");
    assertThat(links.get("lxc1").ifindex()).isEqualTo(3);
    assertThat(links.get("lxc1").mac()).containsExactly(0x46, 0x14, 0x5e, 0x8b, 0xa1, 0xd3);
    assertThat(links.get("lxc1p").ifindex()).isEqualTo(2);
  }
}
