package dev.meshwork.cli.agent;

import dev.meshwork.proto.v1.InspectionServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC channel to the local agent over its Unix socket (Netty epoll), the way the agent serves
 * it. One per CLI invocation: the CLI makes one call and exits.
 */
public final class AgentConnection implements AutoCloseable {

  /** How long a single inspection call may take before the CLI gives up. */
  public static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);

  private final Path socket;
  private final EventLoopGroup eventLoop;
  private final ManagedChannel channel;

  private AgentConnection(Path socket) {
    this.socket = socket;
    this.eventLoop = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    this.channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .eventLoopGroup(eventLoop)
            .channelType(EpollDomainSocketChannel.class)
            .usePlaintext()
            .build();
  }

  /**
   * Opens a channel to the agent socket. Fails early with {@link AgentUnreachableException} when
   * the socket file does not exist, which is the common "agent not running" case.
   */
  public static AgentConnection open(Path socket) {
    if (!socket.toFile().exists()) {
      throw new AgentUnreachableException(socket, "no such socket");
    }
    return new AgentConnection(socket);
  }

  public Path socket() {
    return socket;
  }

  /** A blocking stub with the CLI's call deadline applied. */
  public InspectionServiceGrpc.InspectionServiceBlockingStub inspection() {
    return InspectionServiceGrpc.newBlockingStub(channel)
        .withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }
}
