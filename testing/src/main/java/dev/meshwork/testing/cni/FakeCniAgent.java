package dev.meshwork.testing.cni;

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
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * meshwork-agent's EndpointService (the CNI calls) served on a Unix socket by grpc-java, without
 * the agent: for the plugin's tests and the CNI start-up benchmark. It does no kernel work. By
 * default ADD hands out the next address from 10.244.1.2 on, with a host veth and the pod's
 * interface, after an optional fixed delay that stands for the agent's work; DEL, CHECK, STATUS
 * and GC succeed with an empty result. Tests replace the answer per verb and read back the calls.
 *
 * <p>Standalone: {@code FakeCniAgent <socket path> [--add-delay-ms N]}; prints "ready" once
 * listening and removes the socket on SIGTERM.
 */
public final class FakeCniAgent implements AutoCloseable {

  /** The EndpointService calls, named like the CNI commands they carry. */
  public enum Verb {
    ADD,
    DEL,
    CHECK,
    STATUS,
    GC
  }

  /** A received call. */
  public record Call(Verb verb, CniRequest request) {}

  // grpc-java sets SO_KEEPALIVE on every accepted channel; Unix sockets have no such option and
  // Netty's ServerBootstrap warns once per connection. Kept in a field so that the level is not
  // lost when the logger is garbage-collected.
  private static final java.util.logging.Logger BOOTSTRAP_LOG =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  static {
    BOOTSTRAP_LOG.setLevel(java.util.logging.Level.SEVERE);
  }

  private final Path socket;
  private final long addDelayMs;
  private final EventLoopGroup group;
  private final Server server;
  private final Queue<Call> calls = new ConcurrentLinkedQueue<>();
  private final Map<Verb, Function<CniRequest, CniResponse>> answers = new ConcurrentHashMap<>();
  private final AtomicInteger nextHost = new AtomicInteger(2);
  private final AtomicInteger adds = new AtomicInteger();

  /** Starts listening on {@code socket} (which must not exist yet); each ADD waits {@code addDelayMs} first. */
  public FakeCniAgent(Path socket, long addDelayMs) throws IOException {
    this.socket = socket;
    this.addDelayMs = addDelayMs;
    this.group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    this.server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group)
            .addService(new Service())
            .build()
            .start();
  }

  /** Starts a fake agent listening on {@code socket} (which must not exist yet), answering at once. */
  public static FakeCniAgent start(Path socket) throws IOException {
    return new FakeCniAgent(socket, 0);
  }

  public Path socket() {
    return socket;
  }

  /** Answers {@code verb} with {@code answer} from now on. */
  public FakeCniAgent answer(Verb verb, Function<CniRequest, CniResponse> answer) {
    answers.put(verb, answer);
    return this;
  }

  /** Answers {@code verb} with a CNI error. */
  public FakeCniAgent answerError(Verb verb, int code, String msg, String details) {
    return answer(verb, r -> CniResponse.newBuilder()
        .setError(CniError.newBuilder().setCode(code).setMsg(msg).setDetails(details))
        .build());
  }

  /** Fails {@code verb} at the gRPC level. */
  public FakeCniAgent fail(Verb verb, Status status) {
    return answer(verb, r -> {
      throw status.asRuntimeException();
    });
  }

  /** The calls received so far, in order. */
  public List<Call> calls() {
    return List.copyOf(calls);
  }

  /** ADDs received so far. */
  public int adds() {
    return adds.get();
  }

  /** The result of the default ADD for the n-th address (n from 2): 10.244.1.2, 10.244.1.3, ... */
  public static CniResult addResult(CniRequest request, int n) {
    int third = 1 + n / 256;
    int fourth = n % 256;
    return CniResult.newBuilder()
        .addInterfaces(CniInterface.newBuilder()
            .setName("mw" + request.getContainerId().substring(
                0, Math.min(10, request.getContainerId().length())))
            .setMac("0a:58:0a:f4:01:01"))
        .addInterfaces(CniInterface.newBuilder()
            .setName(request.getIfname())
            .setMac(String.format("0a:58:0a:f4:%02x:%02x", third, fourth))
            .setSandbox(request.getNetns())
            .setMtu(1450))
        .addIps(CniIpConfig.newBuilder()
            .setAddress("10.244." + third + "." + fourth + "/32")
            .setGateway("10.244.1.1")
            .setInterfaceIndex(1))
        .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0").setGw("10.244.1.1"))
        .build();
  }

  /**
   * Turns off gRPC's and Netty's debug logging (logback's default level when no configuration is
   * found) in a benchmark process, where it would cost more than the work measured. Needs logback
   * on the class path.
   */
  public static void quietLogging() {
    if (org.slf4j.LoggerFactory.getILoggerFactory()
        instanceof ch.qos.logback.classic.LoggerContext context) {
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
          .setLevel(ch.qos.logback.classic.Level.WARN);
      context.getLogger("io.netty.bootstrap").setLevel(ch.qos.logback.classic.Level.ERROR);
    }
  }

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: FakeCniAgent <socket path> [--add-delay-ms N]");
      System.exit(2);
    }
    quietLogging();
    long delay = args.length >= 3 && args[1].equals("--add-delay-ms") ? Long.parseLong(args[2]) : 0;
    try (FakeCniAgent agent = new FakeCniAgent(Path.of(args[0]), delay)) {
      // On SIGTERM/Ctrl-C: stop serving and remove the socket file.
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          agent.close();
        } catch (IOException e) {
          // exiting anyway
        }
      }));
      System.out.println("ready");
      System.out.flush();
      agent.server.awaitTermination();
    }
  }

  private CniResponse respond(Verb verb, CniRequest request) throws InterruptedException {
    calls.add(new Call(verb, request));
    if (verb == Verb.ADD) {
      adds.incrementAndGet();
      if (addDelayMs > 0) {
        Thread.sleep(addDelayMs); // stands for the agent's work
      }
    }
    Function<CniRequest, CniResponse> answer = answers.get(verb);
    if (answer != null) {
      return answer.apply(request);
    }
    CniResult result = verb == Verb.ADD
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
      handle(Verb.ADD, request, out);
    }

    @Override
    public void delete(CniRequest request, StreamObserver<CniResponse> out) {
      handle(Verb.DEL, request, out);
    }

    @Override
    public void check(CniRequest request, StreamObserver<CniResponse> out) {
      handle(Verb.CHECK, request, out);
    }

    @Override
    public void status(CniRequest request, StreamObserver<CniResponse> out) {
      handle(Verb.STATUS, request, out);
    }

    @Override
    public void garbageCollect(CniRequest request, StreamObserver<CniResponse> out) {
      handle(Verb.GC, request, out);
    }

    private void handle(Verb verb, CniRequest request, StreamObserver<CniResponse> out) {
      try {
        out.onNext(respond(verb, request));
        out.onCompleted();
      } catch (io.grpc.StatusRuntimeException e) {
        out.onError(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        out.onError(Status.CANCELLED.withDescription("fake agent stopping").asRuntimeException());
      }
    }
  }
}
