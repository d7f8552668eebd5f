package dev.meshwork.cni.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniResult;
import dev.meshwork.proto.v1.Attachment;
import dev.meshwork.proto.v1.CniDns;
import dev.meshwork.proto.v1.CniInterface;
import dev.meshwork.proto.v1.CniIpConfig;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniRoute;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import dev.meshwork.cni.spec.CniCommand;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The hand-written codec against the classes generated from agent.proto: the contract. */
class CniWireTest {

  @Test
  void encodesEveryRequestFieldAsTheGeneratedCodeReadsIt() throws Exception {
    Map<String, String> args = new LinkedHashMap<>();
    args.put("K8S_POD_NAMESPACE", "default");
    args.put("K8S_POD_NAME", "wéb-0");
    AgentRequest request = new AgentRequest("c0ffee", "/var/run/netns/c0ffee", "eth0", args,
        "meshwork", "1.1.0", "{\"cniVersion\":\"1.1.0\"}".getBytes(StandardCharsets.UTF_8),
        List.of(new AgentRequest.Attachment("c1", "eth0"),
            new AgentRequest.Attachment("c2", "net1")));

    CniRequest parsed = CniRequest.parseFrom(CniWire.encode(request));

    assertThat(parsed).isEqualTo(CniRequest.newBuilder()
        .setContainerId("c0ffee")
        .setNetns("/var/run/netns/c0ffee")
        .setIfname("eth0")
        .putArgs("K8S_POD_NAMESPACE", "default")
        .putArgs("K8S_POD_NAME", "wéb-0")
        .setNetworkName("meshwork")
        .setCniVersion("1.1.0")
        .setConfigJson(ByteString.copyFromUtf8("{\"cniVersion\":\"1.1.0\"}"))
        .addValidAttachments(Attachment.newBuilder().setContainerId("c1").setIfname("eth0"))
        .addValidAttachments(Attachment.newBuilder().setContainerId("c2").setIfname("net1"))
        .build());
    assertThat(parsed.getUnknownFields().asMap()).isEmpty();
  }

  @Test
  void encodesTheSameBytesAsTheGeneratedCodeForASimpleRequest() {
    AgentRequest request = new AgentRequest("c1", "", "eth0", Map.of(), "meshwork", "1.0.0",
        new byte[] {'{', '}'}, List.of());

    assertThat(CniWire.encode(request)).isEqualTo(CniRequest.newBuilder().setContainerId("c1")
        .setIfname("eth0").setNetworkName("meshwork").setCniVersion("1.0.0")
        .setConfigJson(ByteString.copyFromUtf8("{}")).build().toByteArray());
  }

  @Test
  void decodesAFullResult() {
    CniResponse response = CniResponse.newBuilder().setResult(
        dev.meshwork.proto.v1.CniResult.newBuilder()
            .addInterfaces(CniInterface.newBuilder().setName("mw1234").setMac("0a:58:00:00:00:01"))
            .addInterfaces(CniInterface.newBuilder().setName("eth0").setMac("0a:58:0a:f4:01:05")
                .setSandbox("/var/run/netns/p").setMtu(1450))
            .addIps(CniIpConfig.newBuilder().setAddress("10.244.1.5/32")
                .setGateway("10.244.1.1").setInterfaceIndex(1))
            .addIps(CniIpConfig.newBuilder().setAddress("fd00::5/128").setInterfaceIndex(-1))
            .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0").setGw("10.244.1.1"))
            .addRoutes(CniRoute.newBuilder().setDst("10.96.0.0/12"))
            .setDns(CniDns.newBuilder().addNameservers("10.96.0.10").setDomain("cluster.local")
                .addSearch("default.svc.cluster.local").addSearch("svc.cluster.local")
                .addOptions("ndots:5")))
        .build();

    AgentAnswer answer = CniWire.decodeResponse(response.toByteArray());

    assertThat(answer).isEqualTo(new AgentAnswer.Success(new CniResult(
        List.of(new CniResult.Interface("mw1234", "0a:58:00:00:00:01", "", 0),
            new CniResult.Interface("eth0", "0a:58:0a:f4:01:05", "/var/run/netns/p", 1450)),
        List.of(new CniResult.IpConfig("10.244.1.5/32", "10.244.1.1", 1),
            new CniResult.IpConfig("fd00::5/128", "", -1)),
        List.of(new CniResult.Route("0.0.0.0/0", "10.244.1.1"),
            new CniResult.Route("10.96.0.0/12", "")),
        new CniResult.Dns(List.of("10.96.0.10"), "cluster.local",
            List.of("default.svc.cluster.local", "svc.cluster.local"), List.of("ndots:5")))));
  }

  @Test
  void decodesAnUnsignedMtuAboveIntRange() {
    CniResponse response = CniResponse.newBuilder().setResult(
        dev.meshwork.proto.v1.CniResult.newBuilder()
            .addInterfaces(CniInterface.newBuilder().setName("eth0").setMtu(-1))) // 2^32-1
        .build();

    CniResult result = ((AgentAnswer.Success) CniWire.decodeResponse(response.toByteArray()))
        .result();

    assertThat(result.interfaces().getFirst().mtu()).isEqualTo(4_294_967_295L);
  }

  @Test
  void decodesAnEmptyResult() {
    byte[] bytes = CniResponse.newBuilder()
        .setResult(dev.meshwork.proto.v1.CniResult.getDefaultInstance()).build().toByteArray();

    assertThat(CniWire.decodeResponse(bytes)).isEqualTo(new AgentAnswer.Success(CniResult.EMPTY));
  }

  @Test
  void decodesAnError() {
    byte[] bytes = CniResponse.newBuilder().setError(dev.meshwork.proto.v1.CniError.newBuilder()
        .setCode(3).setMsg("unknown container").setDetails("c1 is gone")).build().toByteArray();

    assertThat(CniWire.decodeResponse(bytes))
        .isEqualTo(new AgentAnswer.Failure(new CniError(3, "unknown container", "c1 is gone")));
  }

  @Test
  void skipsFieldsItDoesNotKnow() {
    CniResponse response = CniResponse.newBuilder()
        .setResult(dev.meshwork.proto.v1.CniResult.newBuilder()
            .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0")
                .setUnknownFields(UnknownFieldSet.newBuilder()
                    .addField(9, UnknownFieldSet.Field.newBuilder().addVarint(1500).build())
                    .addField(10, UnknownFieldSet.Field.newBuilder().addFixed32(7).build())
                    .addField(11, UnknownFieldSet.Field.newBuilder().addFixed64(8).build())
                    .addField(12, UnknownFieldSet.Field.newBuilder()
                        .addLengthDelimited(ByteString.copyFromUtf8("future")).build())
                    .build())))
        .build();

    CniResult result = ((AgentAnswer.Success) CniWire.decodeResponse(response.toByteArray()))
        .result();

    assertThat(result.routes()).containsExactly(new CniResult.Route("0.0.0.0/0", ""));
  }

  @Test
  void rejectsAResponseWithNeitherResultNorError() {
    assertThatThrownBy(() -> CniWire.decodeResponse(new byte[0]))
        .isInstanceOf(CniWire.WireException.class).hasMessageContaining("neither");
  }

  @Test
  void rejectsAnErrorWithoutCode() {
    byte[] bytes = CniResponse.newBuilder().setError(dev.meshwork.proto.v1.CniError.newBuilder()
        .setMsg("oops")).build().toByteArray();

    assertThatThrownBy(() -> CniWire.decodeResponse(bytes))
        .isInstanceOf(CniWire.WireException.class).hasMessageContaining("oops");
  }

  @Test
  void rejectsTruncatedMessages() {
    byte[] bytes = CniResponse.newBuilder().setError(dev.meshwork.proto.v1.CniError.newBuilder()
        .setCode(3).setMsg("unknown container")).build().toByteArray();
    byte[] truncated = java.util.Arrays.copyOf(bytes, bytes.length - 4);

    assertThatThrownBy(() -> CniWire.decodeResponse(truncated))
        .isInstanceOf(CniWire.WireException.class);
  }

  @Test
  void usesTheMethodNamesOfTheGeneratedService() {
    assertThat(UnixSocketAgent.method(CniCommand.ADD))
        .isEqualTo("/" + EndpointServiceGrpc.getAddMethod().getFullMethodName());
    assertThat(UnixSocketAgent.method(CniCommand.DEL))
        .isEqualTo("/" + EndpointServiceGrpc.getDeleteMethod().getFullMethodName());
    assertThat(UnixSocketAgent.method(CniCommand.CHECK))
        .isEqualTo("/" + EndpointServiceGrpc.getCheckMethod().getFullMethodName());
    assertThat(UnixSocketAgent.method(CniCommand.STATUS))
        .isEqualTo("/" + EndpointServiceGrpc.getStatusMethod().getFullMethodName());
    assertThat(UnixSocketAgent.method(CniCommand.GC))
        .isEqualTo("/" + EndpointServiceGrpc.getGarbageCollectMethod().getFullMethodName());
  }
}
