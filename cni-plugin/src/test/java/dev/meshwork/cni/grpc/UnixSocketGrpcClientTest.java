package dev.meshwork.cni.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.CniRoute;
import dev.meshwork.testing.cni.FakeCniAgent;
import dev.meshwork.testing.cni.FakeCniAgent.Verb;
import io.grpc.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP/2 gRPC client against grpc-java's Netty server on a Unix socket. */
class UnixSocketGrpcClientTest {

  static final String ADD = "/meshwork.v1.EndpointService/Add";
  static final Duration DEADLINE = Duration.ofSeconds(20);

  @TempDir Path dir;
  FakeCniAgent agent;
  UnixSocketGrpcClient client;

  @BeforeEach
  void start() throws IOException {
    agent = FakeCniAgent.start(dir.resolve("agent.sock"));
    client = new UnixSocketGrpcClient(agent.socket().toString());
  }

  @AfterEach
  void stop() throws IOException {
    agent.close();
  }

  @Test
  void makesAUnaryCall() throws Exception {
    CniRequest request = CniRequest.newBuilder().setContainerId("c1").setIfname("eth0").build();

    CniResponse response = CniResponse.parseFrom(client.call(ADD, request.toByteArray(), DEADLINE));

    assertThat(response.getResult().getIps(0).getAddress()).isEqualTo("10.244.1.2/32");
    assertThat(agent.calls().getFirst().request()).isEqualTo(request);
  }

  @Test
  void sendsARequestLargerThanTheFlowControlWindow() throws Exception {
    // 200 KiB: more than the 64 KiB initial windows and many 16 KiB frames.
    CniRequest request = CniRequest.newBuilder().setContainerId("c1")
        .setConfigJson(com.google.protobuf.ByteString.copyFrom(new byte[200 * 1024])).build();

    client.call(ADD, request.toByteArray(), DEADLINE);

    assertThat(agent.calls().getFirst().request().getConfigJson().size()).isEqualTo(200 * 1024);
  }

  @Test
  void receivesAResponseLargerThanAFrame() throws Exception {
    CniResult.Builder big = CniResult.newBuilder();
    for (int i = 0; i < 8000; i++) {
      big.addRoutes(CniRoute.newBuilder().setDst("10." + (i / 256) + "." + (i % 256) + ".0/24"));
    }
    agent.answer(Verb.ADD, r -> CniResponse.newBuilder().setResult(big).build());

    CniResponse response = CniResponse.parseFrom(
        client.call(ADD, CniRequest.getDefaultInstance().toByteArray(), DEADLINE));

    assertThat(response.getResult().getRoutesCount()).isEqualTo(8000);
  }

  @Test
  void makesManyCallsInARow() throws Exception {
    for (int i = 0; i < 50; i++) {
      client.call(ADD, CniRequest.newBuilder().setContainerId("c" + i).build().toByteArray(),
          DEADLINE);
    }
    assertThat(agent.calls()).hasSize(50);
  }

  @Test
  void reportsTheServersStatusAndDecodedMessage() {
    agent.fail(Verb.ADD, Status.PERMISSION_DENIED.withDescription("nöt allowed: 100%"));

    assertThatThrownBy(() -> client.call(ADD, new byte[0], DEADLINE))
        .isInstanceOfSatisfying(GrpcStatusException.class, e -> {
          assertThat(e.code()).isEqualTo(GrpcStatusException.PERMISSION_DENIED);
          assertThat(e.description()).isEqualTo("nöt allowed: 100%");
        });
  }

  @Test
  void reportsAnUnknownMethodAsUnimplemented() {
    assertThatThrownBy(() -> client.call("/meshwork.v1.EndpointService/Nope", new byte[0],
        DEADLINE)).isInstanceOfSatisfying(GrpcStatusException.class,
            e -> assertThat(e.code()).isEqualTo(GrpcStatusException.UNIMPLEMENTED));
  }

  @Test
  void reportsAMissingSocketAsUnavailable() {
    UnixSocketGrpcClient nowhere = new UnixSocketGrpcClient(dir.resolve("none.sock").toString());

    assertThatThrownBy(() -> nowhere.call(ADD, new byte[0], DEADLINE))
        .isInstanceOfSatisfying(GrpcStatusException.class,
            e -> assertThat(e.code()).isEqualTo(GrpcStatusException.UNAVAILABLE));
  }

  @Test
  void reportsAPeerThatIsNotHttp2AsUnavailable() throws Exception {
    // A socket whose server closes every connection at once.
    Path path = dir.resolve("closing.sock");
    try (var server = java.nio.channels.ServerSocketChannel.open(
        java.net.StandardProtocolFamily.UNIX)) {
      server.bind(java.net.UnixDomainSocketAddress.of(path));
      Thread acceptor = Thread.ofVirtual().start(() -> {
        try (var connection = server.accept()) {
          connection.write(java.nio.ByteBuffer.wrap("HTTP/1.1 400\r\n\r\n".getBytes()));
        } catch (IOException e) {
          // the test ends
        }
      });
      UnixSocketGrpcClient confused = new UnixSocketGrpcClient(path.toString());

      assertThatThrownBy(() -> confused.call(ADD, new byte[0], DEADLINE))
          .isInstanceOf(GrpcStatusException.class);
      acceptor.join();
    } finally {
      Files.deleteIfExists(path);
    }
  }

  @Test
  void endsTheCallAtTheDeadline() {
    agent.answer(Verb.ADD, r -> {
      try {
        Thread.sleep(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CniResponse.getDefaultInstance();
    });
    long start = System.nanoTime();

    assertThatThrownBy(() -> client.call(ADD, new byte[0], Duration.ofMillis(300)))
        .isInstanceOfSatisfying(GrpcStatusException.class,
            e -> assertThat(e.code()).isEqualTo(GrpcStatusException.DEADLINE_EXCEEDED));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(1900));
  }

  @Test
  void reportsAServerThatGivesUpAtTheDeadlineAsDeadlineExceeded() {
    // grpc-java cancels the stream itself when the grpc-timeout we sent runs out; whichever side
    // notices first, the call ends with DEADLINE_EXCEEDED.
    agent.answer(Verb.ADD, r -> {
      try {
        Thread.sleep(600);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CniResponse.getDefaultInstance();
    });
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> client.call(ADD, new byte[0], Duration.ofMillis(100)))
          .isInstanceOfSatisfying(GrpcStatusException.class,
              e -> assertThat(e.code()).isEqualTo(GrpcStatusException.DEADLINE_EXCEEDED));
    }
  }

  @Test
  void mapsStreamResetsAsGrpcDoes() {
    assertThat(UnixSocketGrpcClient.fromHttp2Error(0x8)).isEqualTo(GrpcStatusException.CANCELLED);
    assertThat(UnixSocketGrpcClient.fromHttp2Error(0x7))
        .isEqualTo(GrpcStatusException.UNAVAILABLE);
    assertThat(UnixSocketGrpcClient.fromHttp2Error(0x2)).isEqualTo(GrpcStatusException.INTERNAL);
  }

  @Test
  void mapsHttpStatusesWithoutGrpcStatus() {
    assertThat(UnixSocketGrpcClient.fromHttpStatus("404"))
        .isEqualTo(GrpcStatusException.UNIMPLEMENTED);
    assertThat(UnixSocketGrpcClient.fromHttpStatus("503"))
        .isEqualTo(GrpcStatusException.UNAVAILABLE);
    assertThat(UnixSocketGrpcClient.fromHttpStatus("418")).isEqualTo(GrpcStatusException.UNKNOWN);
  }
}
