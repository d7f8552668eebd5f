package dev.meshwork.cni.agent;

import dev.meshwork.cni.spec.CniCommand;
import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniException;
import dev.meshwork.proto.v1.CniRequest;
import dev.meshwork.proto.v1.CniResponse;
import dev.meshwork.proto.v1.EndpointServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The agent reached through gRPC over its Unix socket (Netty's epoll transport). One short-lived
 * channel per process: the plugin makes a single call and exits.
 */
public final class GrpcUnixSocketAgent implements Agent {

  private final String socketPath;
  private final EventLoopGroup group;
  private final ManagedChannel channel;

  public GrpcUnixSocketAgent(String socketPath) {
    this.socketPath = socketPath;
    Path socket = Path.of(socketPath);
    if (!Files.exists(socket)) {
      // Checked up front so that the error says what is wrong instead of a generic UNAVAILABLE.
      throw new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent socket " + socketPath + " does not exist",
          "meshwork-agent is not running on this node (or not yet ready); it creates the socket"
              + " when it starts. Check the agent pod, or the \"agent-socket\" field of the"
              + " network configuration.");
    }
    // One I/O thread is plenty for one call; no executor of its own (directExecutor) either.
    this.group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    this.channel =
        NettyChannelBuilder.forAddress(new DomainSocketAddress(socketPath))
            .eventLoopGroup(group)
            .channelType(EpollDomainSocketChannel.class)
            .usePlaintext()
            .directExecutor()
            .disableRetry()
            .build();
  }

  @Override
  public CniResponse call(CniCommand verb, CniRequest request, Duration deadline) {
    EndpointServiceGrpc.EndpointServiceBlockingStub stub =
        EndpointServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    try {
      return switch (verb) {
        case ADD -> stub.add(request);
        case DEL -> stub.delete(request);
        case CHECK -> stub.check(request);
        case STATUS -> stub.status(request);
        case GC -> stub.garbageCollect(request);
        case VERSION -> throw new IllegalArgumentException("VERSION is answered by the plugin");
      };
    } catch (StatusRuntimeException e) {
      throw translate(verb, deadline, e);
    }
  }

  private CniException translate(CniCommand verb, Duration deadline, StatusRuntimeException e) {
    Status status = e.getStatus();
    String description = status.getDescription() == null ? "" : ": " + status.getDescription();
    return switch (status.getCode()) {
      case UNAVAILABLE -> new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent unreachable at " + socketPath,
          "connecting to the agent's socket failed (" + status.getCode() + description
              + "); is meshwork-agent running on this node?",
          e);
      case DEADLINE_EXCEEDED -> new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent did not answer " + verb + " within " + deadline.toSeconds() + " s",
          "the agent at " + socketPath + " is busy or stuck; the runtime should retry (raise"
              + " \"agent-timeout-seconds\" in the network configuration if this is expected)",
          e);
      default -> new CniException(
          CniError.AGENT_CALL_FAILED,
          "meshwork agent failed " + verb,
          "gRPC call to " + socketPath + " ended with " + status.getCode() + description,
          e);
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
    group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
  }
}
