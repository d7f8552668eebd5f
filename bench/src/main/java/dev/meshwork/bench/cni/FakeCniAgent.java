package dev.meshwork.bench.cni;

import dev.meshwork.proto.v1.CniInterface;
import dev.meshwork.proto.v1.CniIpConfig;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.CniResult;
import dev.meshwork.proto.v1.CniRoute;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import io.grpc.Server;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stand-in for meshwork-agent's EndpointService, for the CNI start-up benchmark. It does no
 * kernel work: ADD returns the next address of 10.244.0.0/16 (a counter), a host veth name and the
 * pod's eth0, after an optional fixed delay ({@code --add-delay-ms}); DEL, CHECK, STATUS and GC
 * return an empty result. It measures the plugin (JVM start, JSON, gRPC over the Unix socket),
 * not the agent.
 *
 * <p>Usage: {@code FakeCniAgent <socket path> [--add-delay-ms N]}; prints "ready" once listening.
 */
public final class FakeCniAgent implements AutoCloseable {

  // Held so that the level set below is not lost when the logger is garbage-collected.
  private static final java.util.logging.Logger NETTY_BOOTSTRAP =
      java.util.logging.Logger.getLogger("io.netty.bootstrap");

  private final Path socket;
  private final EventLoopGroup group;
  private final Server server;
  private final AtomicInteger next = new AtomicInteger(2);
  private final long addDelayMs;

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

  /**
   * Turns off gRPC's and Netty's debug logging (logback's default level when no configuration is
   * found) and Netty's per-connection SO_KEEPALIVE warning for Unix sockets: in a benchmark they
   * would cost more than the work measured.
   */
  public static void quietLogging() {
    if (org.slf4j.LoggerFactory.getILoggerFactory()
        instanceof ch.qos.logback.classic.LoggerContext context) {
      context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)
          .setLevel(ch.qos.logback.classic.Level.WARN);
      context.getLogger("io.netty.bootstrap").setLevel(ch.qos.logback.classic.Level.ERROR);
    }
    NETTY_BOOTSTRAP.setLevel(java.util.logging.Level.SEVERE);
  }

  /** ADDs answered so far. */
  public int adds() {
    return next.get() - 2;
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

  private CniResult allocate(CniRequest request) {
    int n = next.getAndIncrement();
    String address = "10.244." + (n / 256) + "." + (n % 256);
    String id = request.getContainerId();
    return CniResult.newBuilder()
        .addInterfaces(CniInterface.newBuilder()
            .setName("mw" + id.substring(0, Math.min(11, id.length())))
            .setMac("0a:58:0a:f4:00:01"))
        .addInterfaces(CniInterface.newBuilder()
            .setName(request.getIfname())
            .setMac(String.format("0a:58:0a:f4:%02x:%02x", n / 256, n % 256))
            .setSandbox(request.getNetns())
            .setMtu(1450))
        .addIps(CniIpConfig.newBuilder()
            .setAddress(address + "/32").setGateway("10.244.0.1").setInterfaceIndex(1))
        .addRoutes(CniRoute.newBuilder().setDst("0.0.0.0/0").setGw("10.244.0.1"))
        .build();
  }

  private final class Service extends EndpointServiceGrpc.EndpointServiceImplBase {
    @Override
    public void add(CniRequest request, StreamObserver<CniResponse> out) {
      if (addDelayMs > 0) {
        try {
          Thread.sleep(addDelayMs); // stands for the agent's work; this is a benchmark fake
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      reply(out, allocate(request));
    }

    @Override
    public void delete(CniRequest request, StreamObserver<CniResponse> out) {
      reply(out, CniResult.getDefaultInstance());
    }

    @Override
    public void check(CniRequest request, StreamObserver<CniResponse> out) {
      reply(out, CniResult.getDefaultInstance());
    }

    @Override
    public void status(CniRequest request, StreamObserver<CniResponse> out) {
      reply(out, CniResult.getDefaultInstance());
    }

    @Override
    public void garbageCollect(CniRequest request, StreamObserver<CniResponse> out) {
      reply(out, CniResult.getDefaultInstance());
    }

    private void reply(StreamObserver<CniResponse> out, CniResult result) {
      out.onNext(CniResponse.newBuilder().setResult(result).build());
      out.onCompleted();
    }
  }
}
