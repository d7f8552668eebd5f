package dev.meshwork.cni.testing;

import dev.meshwork.cni.spec.CniCommand;
import dev.meshwork.proto.v1.CniError;
import dev.meshwork.proto.v1.CniInterface;
import dev.meshwork.proto.v1.CniIpConfig;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.CniRoute;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * An in-process EndpointService on a Unix socket, standing in for meshwork-agent. By default it
 * behaves like a minimal agent: ADD hands out the next address of 10.244.1.0/24 on eth0 in the
 * pod's namespace, everything else succeeds. Tests replace the answer per verb and read back the
 * requests it received.
 */
public final class FakeAgent implements AutoCloseable {

  /** A received call. */
  public record Call(CniCommand verb, CniRequest request) {}

  // grpc-java sets SO_KEEPALIVE on every accepted channel; Unix sockets have no such option and
  // Netty's ServerBootstrap warns once per connection. Kept in a field so that the level is not
  // lost when the logger is garbage-collected.
  private static final java.util.logging.Logger BOOTSTRAP_LOG =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  static {
    BOOTSTRAP_LOG.setLevel(java.util.logging.Level.SEVERE);
  }

  private final Path socket;
  private final EventLoopGroup group;
  private final Server server;
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final Map<CniCommand, Function<CniRequest, CniResponse>> answers =
      new ConcurrentHashMap<>();
  private final AtomicInteger nextHost = new AtomicInteger(2);

  private FakeAgent(Path socket) throws IOException {
    this.socket = socket;
    this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    this.server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .addService(new Service())
            .build()
            .start();
  }

  /** Starts a fake agent listening on {@code socket} (which must not exist yet). */
  public static FakeAgent start(Path socket) throws IOException {
    return new FakeAgent(socket);
  }

  public Path socket() {
    return socket;
  }

  /** Answers {@code verb} with {@code answer} from now on. */
  public FakeAgent answer(CniCommand verb, Function<CniRequest, CniResponse> answer) {
    answers.put(verb, answer);
    return this;
  }

  /** Answers {@code verb} with a CNI error. */
  public FakeAgent answerError(CniCommand verb, int code, String msg, String details) {
    return answer(verb, r -> CniResponse.newBuilder()
        .setError(CniError.newBuilder().setCode(code).setMsg(msg).setDetails(details))
        .build());
  }

  /** Fails {@code verb} at the gRPC level. */
  public FakeAgent fail(CniCommand verb, Status status) {
    return answer(verb, r -> {
      throw status.asRuntimeException();
    });
  }

  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** The result the default ADD returns for the n-th address (n starting at 2). */
  public static CniResult addResult(CniRequest request, int host) {
    return CniResult.newBuilder()
        .addInterfaces(CniInterface.newBuilder()
            .setName("mw" + request.getContainerId().substring(
                0, Math.min(10, request.getContainerId().length())))
            .setMac("0a:58:0a:f4:01:01"))
        .addInterfaces(CniInterface.newBuilder()
            .setName(request.getIfname())
            .setMac(String.format("0a:58:0a:f4:01:%02x", host))
            .setSandbox(request.getNetns())
            .setMtu(1450))
        .addIps(CniIpConfig.newBuilder()
            .setAddress("10.244.1." + host + "/32")
            .setGateway("10.244.1.1")
            .setInterfaceIndex(1))
        .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0").setGw("10.244.1.1"))
        .build();
  }

  private CniResponse respond(CniCommand verb, CniRequest request) {
    calls.add(new Call(verb, request));
    Function<CniRequest, CniResponse> answer = answers.get(verb);
    if (answer != null) {
      return answer.apply(request);
    }
    CniResult result = verb == CniCommand.ADD
        ? addResult(request, nextHost.getAndIncrement())
        : CniResult.getDefaultInstance();
    return CniResponse.newBuilder().setResult(result).build();
  }

  @Override
  public void close() throws IOException {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
    Files.deleteIfExists(socket);
  }

  private final class Service extends EndpointServiceGrpc.EndpointServiceImplBase {
    @Override
    public void add(CniRequest request, StreamObserver<CniResponse> out) {
      handle(CniCommand.ADD, request, out);
    }

    @Override
    public void delete(CniRequest request, StreamObserver<CniResponse> out) {
      handle(CniCommand.DEL, request, out);
    }

    @Override
    public void check(CniRequest request, StreamObserver<CniResponse> out) {
      handle(CniCommand.CHECK, request, out);
    }

    @Override
    public void status(CniRequest request, StreamObserver<CniResponse> out) {
      handle(CniCommand.STATUS, request, out);
    }

    @Override
    public void garbageCollect(CniRequest request, StreamObserver<CniResponse> out) {
      handle(CniCommand.GC, request, out);
    }

    private void handle(CniCommand verb, CniRequest request, StreamObserver<CniResponse> out) {
      try {
        out.onNext(respond(verb, request));
        out.onCompleted();
      } catch (io.grpc.StatusRuntimeException e) {
        out.onError(e);
      }
    }
  }
}
