package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.linux.Errno;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.netlink.Rtnetlink.VethEnd;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Netlink messages and attributes as bytes, both ways; no socket, no privileges. */
class NetlinkMessagesTest {
  private static List<NetlinkMessage> parse(byte[] bytes) throws NetlinkException {
    return NetlinkMessage.parse(ByteBuffer.wrap(bytes));
  }

  private static NetlinkMessage only(NetlinkRequest request) throws NetlinkException {
    List<NetlinkMessage> messages = parse(request.toBytes(7, 0));
    assertThat(messages).hasSize(1);
    return messages.getFirst();
  }

  @Test
  void headerCarriesLengthTypeFlagsAndSequenceInHostOrder() {
    byte[] bytes = new NetlinkRequest(Rtnetlink.RTM_GETLINK, 0).u32(0x01020304)
        .toBytes(42, NetlinkMessage.NLM_F_REQUEST | NetlinkMessage.NLM_F_ACK);

    assertThat(HexFormat.of().formatHex(bytes)).isEqualTo(
        "14000000" + "1200" + "0500" + "2a000000" + "00000000" + "04030201");
  }

  @Test
  void attributesArePaddedToFourBytesAndStringsEndInNul() {
    byte[] bytes = new NetlinkRequest(Rtnetlink.RTM_GETLINK, 0).attributeString(Rtnetlink.IFLA_IFNAME, "eth0")
        .attributeU32(Rtnetlink.IFLA_MTU, 1450).toBytes(1, 0);

    // eth0\0 is 9 bytes with its header, padded to 12; the MTU follows at offset 16 + 12
    assertThat(bytes).hasSize(16 + 12 + 8);
    assertThat(HexFormat.of().formatHex(bytes, 16, bytes.length))
        .isEqualTo("0900" + "0300" + "6574683000" + "000000" + "0800" + "0400" + "aa050000");
  }

  @Test
  void ipv4AttributesAreInNetworkOrder() throws Exception {
    NetlinkMessage m = only(new NetlinkRequest(Rtnetlink.RTM_NEWADDR, 0).attributeIpv4(Rtnetlink.IFA_LOCAL, Ipv4.parse("10.1.2.3")));

    assertThat(m.attributes(0).bytes(Rtnetlink.IFA_LOCAL)).hasValue(new byte[] {10, 1, 2, 3});
    assertThat(m.attributes(0).ipv4(Rtnetlink.IFA_LOCAL)).hasValue(Ipv4.parse("10.1.2.3"));
  }

  @Test
  void vethRequestNestsThePeerWithItsOwnHeaderNameAndNamespaceFd() throws Exception {
    NetlinkMessage m = only(Rtnetlink.newVeth(new VethEnd("mw0123", 1450, "0e:00:00:00:00:01"),
        new VethEnd("eth0", 1400, "0a:58:0a:00:00:02"), 9));

    assertThat(m.type()).isEqualTo(Rtnetlink.RTM_NEWLINK);
    assertThat(m.flags()).isEqualTo(NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_EXCL);
    Attributes link = m.attributes(Rtnetlink.IFINFOMSG_LENGTH);
    assertThat(link.string(Rtnetlink.IFLA_IFNAME)).hasValue("mw0123");
    assertThat(link.u32(Rtnetlink.IFLA_MTU)).hasValue(1450);
    assertThat(link.bytes(Rtnetlink.IFLA_ADDRESS).map(MacAddress::format)).hasValue("0e:00:00:00:00:01");
    Attributes info = link.nested(Rtnetlink.IFLA_LINKINFO).orElseThrow();
    assertThat(info.string(Rtnetlink.IFLA_INFO_KIND)).hasValue("veth");
    byte[] peer = info.nested(Rtnetlink.IFLA_INFO_DATA).orElseThrow().bytes(Rtnetlink.VETH_INFO_PEER).orElseThrow();
    Attributes peerLink = Attributes.parse(ByteBuffer.wrap(peer), Rtnetlink.IFINFOMSG_LENGTH);
    assertThat(peerLink.string(Rtnetlink.IFLA_IFNAME)).hasValue("eth0");
    assertThat(peerLink.u32(Rtnetlink.IFLA_MTU)).hasValue(1400);
    assertThat(peerLink.bytes(Rtnetlink.IFLA_ADDRESS).map(MacAddress::format)).hasValue("0a:58:0a:00:00:02");
    assertThat(peerLink.u32(Rtnetlink.IFLA_NET_NS_FD)).hasValue(9);
  }

  @Test
  void nestedAttributeLengthsCoverTheirContent() {
    byte[] bytes = new NetlinkRequest(Rtnetlink.RTM_NEWLINK, 0).beginNested(Rtnetlink.IFLA_LINKINFO)
        .attributeString(Rtnetlink.IFLA_INFO_KIND, "veth").endNested().toBytes(1, 0);

    // outer: 4 header + inner (4 header + "veth\0" = 9, padded 12) = 16
    assertThat(HexFormat.of().formatHex(bytes, 16, 20)).isEqualTo("1000" + "1200");
  }

  @Test
  void unbalancedNestingIsAProgrammingError() {
    assertThatThrownBy(() -> new NetlinkRequest(1, 0).beginNested(1).toBytes(1, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> new NetlinkRequest(1, 0).endNested()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void routeRequestsMatchIpRouteReplace() throws Exception {
    NetlinkMessage hostRoute = only(Rtnetlink.newRoute(Route.toLink(Ipv4.parse("10.1.0.5"), 32, 12)));
    NetlinkMessage defaultRoute = only(Rtnetlink.newRoute(Route.defaultViaOnLink(Ipv4.parse("10.1.0.1"), 3)));

    assertThat(hostRoute.flags()).isEqualTo(NetlinkMessage.NLM_F_CREATE | NetlinkMessage.NLM_F_REPLACE);
    assertThat(Rtnetlink.parseRoute(hostRoute)).isEqualTo(Route.toLink(Ipv4.parse("10.1.0.5"), 32, 12));
    assertThat(Rtnetlink.parseRoute(defaultRoute)).isEqualTo(Route.defaultViaOnLink(Ipv4.parse("10.1.0.1"), 3));
    assertThat(defaultRoute.attributes(Rtnetlink.RTMSG_LENGTH).has(Rtnetlink.RTA_DST)).isFalse();
    assertThat(hostRoute.payload().get(5)).isEqualTo((byte) Rtnetlink.RTPROT_BOOT);
    assertThat(defaultRoute.payload().getInt(8)).isEqualTo(Rtnetlink.RTNH_F_ONLINK);
  }

  @Test
  void routesOutsideTheMainTableAreNotRead() throws Exception {
    NetlinkMessage local = only(new NetlinkRequest(Rtnetlink.RTM_NEWROUTE, 0).u8(Rtnetlink.AF_INET).u8(32).u8(0).u8(0)
        .u8(255).u8(2).u8(254).u8(2).u32(0).attributeU32(Rtnetlink.RTA_TABLE, 255));

    assertThat(Rtnetlink.parseRoute(local)).isNull();
  }

  @Test
  void addressAndNeighbourRequestsCarryInterfaceAndValues() throws Exception {
    NetlinkMessage address = only(Rtnetlink.newAddress(4, Ipv4.parse("10.1.0.9"), 32));
    NetlinkMessage neighbour = only(Rtnetlink.newNeighbour(
        new Neighbour(4, Ipv4.parse("10.1.0.1"), "0e:aa:bb:cc:dd:ee", Rtnetlink.NUD_PERMANENT)));

    assertThat(address.payload().get(1)).isEqualTo((byte) 32);
    assertThat(address.payload().getInt(4)).isEqualTo(4);
    assertThat(address.attributes(Rtnetlink.IFADDRMSG_LENGTH).ipv4(Rtnetlink.IFA_LOCAL)).hasValue(Ipv4.parse("10.1.0.9"));
    assertThat(neighbour.payload().getInt(4)).isEqualTo(4);
    assertThat(neighbour.payload().getShort(8)).isEqualTo((short) Rtnetlink.NUD_PERMANENT);
    assertThat(neighbour.attributes(Rtnetlink.NDMSG_LENGTH).bytes(Rtnetlink.NDA_LLADDR).map(MacAddress::format))
        .hasValue("0e:aa:bb:cc:dd:ee");
  }

  @Test
  void linkRepliesAreReadWithIndexUpFlagMtuAndMac() throws Exception {
    NetlinkMessage reply = only(new NetlinkRequest(Rtnetlink.RTM_NEWLINK, 0)
        .u8(0).u8(0).u16(1).u32(17).u32(Rtnetlink.IFF_UP | 0x40).u32(0)
        .attributeString(Rtnetlink.IFLA_IFNAME, "mwabc")
        .attributeU32(Rtnetlink.IFLA_MTU, 1450)
        .attribute(Rtnetlink.IFLA_ADDRESS, MacAddress.parse("0e:01:02:03:04:05")));

    assertThat(Rtnetlink.parseLink(reply)).isEqualTo(new Link(17, "mwabc", 1450, true, "0e:01:02:03:04:05"));
  }

  @Test
  void errorRepliesCarryErrnoAndTheKernelsExplanation() throws Exception {
    NetlinkMessage request = only(new NetlinkRequest(Rtnetlink.RTM_NEWLINK, 0));
    ByteBuffer error = ByteBuffer.allocate(16 + 4 + 16 + 24).order(ByteOrder.nativeOrder());
    error.putInt(error.capacity()).putShort((short) NetlinkMessage.NLMSG_ERROR)
        .putShort((short) (NetlinkMessage.NLM_F_CAPPED | NetlinkMessage.NLM_F_ACK_TLVS)).putInt(7).putInt(0);
    error.putInt(-Errno.EEXIST);
    error.putInt(16).putShort((short) request.type()).putShort((short) 0).putInt(7).putInt(0); // echoed header only
    byte[] text = "File exists here\0".getBytes();
    error.putShort((short) (4 + text.length)).putShort((short) NetlinkMessage.NLMSGERR_ATTR_MSG).put(text);

    NetlinkMessage m = parse(error.array()).getFirst();

    assertThat(m.isError()).isTrue();
    assertThat(m.errno()).isEqualTo(Errno.EEXIST);
    assertThat(m.kernelMessage()).isEqualTo("File exists here");
    assertThat(new NetlinkException("RTM_NEWLINK veth mw1", m.errno(), m.kernelMessage()))
        .hasMessage("RTM_NEWLINK veth mw1: EEXIST (already exists) (kernel: File exists here)")
        .matches(NetlinkException::isAlreadyExists);
  }

  @Test
  void anAcknowledgementIsAnErrorMessageWithErrnoZero() throws Exception {
    ByteBuffer ack = ByteBuffer.allocate(36).order(ByteOrder.nativeOrder());
    ack.putInt(36).putShort((short) NetlinkMessage.NLMSG_ERROR).putShort((short) NetlinkMessage.NLM_F_CAPPED).putInt(3).putInt(0);
    ack.putInt(0).putInt(16).putShort((short) 16).putShort((short) 0).putInt(3).putInt(0);

    NetlinkMessage m = parse(ack.array()).getFirst();

    assertThat(m.errno()).isZero();
    assertThat(m.kernelMessage()).isEmpty();
  }

  @Test
  void aDatagramHoldsSeveralAlignedMessages() throws Exception {
    byte[] first = new NetlinkRequest(Rtnetlink.RTM_NEWLINK, NetlinkMessage.NLM_F_MULTI).attributeString(Rtnetlink.IFLA_IFNAME, "a").toBytes(5, 0);
    byte[] done = new NetlinkRequest(NetlinkMessage.NLMSG_DONE, NetlinkMessage.NLM_F_MULTI).u32(0).toBytes(5, 0);
    ByteBuffer datagram = ByteBuffer.allocate(first.length + done.length).put(first).put(done);

    List<NetlinkMessage> messages = parse(datagram.array());

    assertThat(messages).extracting(NetlinkMessage::type).containsExactly(Rtnetlink.RTM_NEWLINK, NetlinkMessage.NLMSG_DONE);
    assertThat(messages.getLast().isDone()).isTrue();
    assertThat(messages.getFirst().attributes(0).string(Rtnetlink.IFLA_IFNAME)).hasValue("a");
  }

  @Test
  void aMessageLongerThanTheDatagramIsRejectedNamingTheOffset() {
    byte[] bytes = new NetlinkRequest(Rtnetlink.RTM_NEWLINK, 0).u32(0).toBytes(1, 0);
    ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder()).putInt(0, 400);

    assertThatThrownBy(() -> parse(bytes))
        .isInstanceOf(NetlinkException.class)
        .hasMessageContaining("offset 0 claims 400 bytes, 20 left");
  }

  @Test
  void aTruncatedAttributeEndsTheListAndTheNestedFlagIsIgnored() {
    ByteBuffer b = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
    b.putShort((short) 8).putShort((short) (0x8000 | Rtnetlink.IFLA_MTU)).putInt(1500); // NLA_F_NESTED set
    b.putShort((short) 40).putShort((short) Rtnetlink.IFLA_IFNAME).putInt(0); // claims more than there is

    Attributes a = Attributes.parse(b, 0);

    assertThat(a.u32(Rtnetlink.IFLA_MTU)).hasValue(1500);
    assertThat(a.has(Rtnetlink.IFLA_IFNAME)).isFalse();
  }

  @Test
  void macAddressesRoundTripAndBadOnesAreNamed() {
    assertThat(MacAddress.format(MacAddress.parse("0e:1a:2b:3c:4d:5e"))).isEqualTo("0e:1a:2b:3c:4d:5e");
    assertThatThrownBy(() -> MacAddress.parse("0e:1a:2b")).hasMessage("not a MAC address: '0e:1a:2b'");
    assertThatThrownBy(() -> MacAddress.parse("zz:1a:2b:3c:4d:5e")).hasMessageContaining("'zz:1a:2b:3c:4d:5e'");
  }

  @Test
  void unknownErrnosAreShownByNumber() {
    assertThat(new NetlinkException("RTM_GETLINK x", 4095)).hasMessage("RTM_GETLINK x: errno 4095");
    assertThat(new NetlinkException("RTM_GETLINK x", Errno.ENODEV).isNotFound()).isTrue();
  }
}
