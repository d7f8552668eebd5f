package dev.meshwork.testing.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import dev.meshwork.proto.v1.EndpointServiceGrpc.EndpointServiceBlockingStub;
import dev.meshwork.testing.cni.FakeCniAgent.Verb;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fake agent the CNI plugin's tests and the CNI benchmark talk to, through a real gRPC client. */
class FakeCniAgentTest {
  @TempDir Path dir;
  FakeCniAgent agent;
  EventLoopGroup group;
  ManagedChannel channel;

  @BeforeEach
  void connect() throws Exception {
    agent = FakeCniAgent.start(dir.resolve("agent.sock"));
    group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(agent.socket().toString()))
        .channelType(EpollDomainSocketChannel.class).eventLoopGroup(group).usePlaintext().build();
  }

  @AfterEach
  void close() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    agent.close();
  }

  EndpointServiceBlockingStub stub() {
    return EndpointServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  static CniRequest request(String containerId) {
    return CniRequest.newBuilder().setContainerId(containerId).setIfname("eth0").setNetns("/var/run/netns/p").build();
  }

  @Test
  void addsGetConsecutiveAddressesBeyondOneSlash24AndTheOtherVerbsSucceedEmpty() {
    String first = stub().add(request("c0000000000001")).getResult().getIps(0).getAddress();
    String last = null;
    for (int i = 1; i < 300; i++) {
      last = stub().add(request("c" + i)).getResult().getIps(0).getAddress();
    }
    CniResponse del = stub().delete(request("c1"));

    assertThat(first).isEqualTo("10.244.1.2/32");
    assertThat(last).isEqualTo("10.244.2.45/32"); // the 300th: 2 + 299 = 301 = 256 + 45
    assertThat(agent.adds()).isEqualTo(300);
    assertThat(del.hasResult()).isTrue();
    assertThat(del.getResult().getIpsCount()).isZero();
    assertThat(agent.calls()).hasSize(301);
    assertThat(agent.calls().getFirst().verb()).isEqualTo(Verb.ADD);
    assertThat(agent.calls().getFirst().request().getContainerId()).isEqualTo("c0000000000001");
    assertThat(agent.calls().getLast().verb()).isEqualTo(Verb.DEL);
    assertThat(FakeCniAgent.addResult(request("c0000000000001"), 2).getInterfaces(0).getName())
        .isEqualTo("mwc000000000");
  }

  @Test
  void aVerbAnswersAsTheTestSaysUntilToldOtherwise() {
    agent.answerError(Verb.CHECK, 121, "address missing", "eth0 has no 10.244.1.2/32");
    agent.fail(Verb.STATUS, Status.UNAVAILABLE.withDescription("agent not ready"));

    assertThat(stub().check(request("c1")).getError().getCode()).isEqualTo(121);
    assertThatThrownBy(() -> stub().status(request("")))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
          assertThat(e.getStatus().getDescription()).isEqualTo("agent not ready");
        });
    assertThat(stub().add(request("c1")).getResult().getIps(0).getAddress()).isEqualTo("10.244.1.2/32");
    assertThat(agent.calls()).extracting(FakeCniAgent.Call::verb).containsExactly(Verb.CHECK, Verb.STATUS, Verb.ADD);
  }

  @Test
  void closingRemovesTheSocket() throws Exception {
    agent.close();
    assertThat(agent.socket()).doesNotExist();
  }
}
