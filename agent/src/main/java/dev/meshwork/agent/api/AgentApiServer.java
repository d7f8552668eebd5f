package dev.meshwork.agent.api;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent API: gRPC over a Unix socket (Netty epoll). The socket file is replaced if a
 * previous agent left it behind, and made accessible to root only (0600): the CNI plugin and the
 * CLI run as root on the node.
 */
public final class AgentApiServer {
  private static final Logger log = LoggerFactory.getLogger(AgentApiServer.class);

  private final Path socket;
  private final List<BindableService> services;
  private EventLoopGroup group;
  private Server server;

  public AgentApiServer(Path socket, List<BindableService> services) {
    this.socket = socket;
    this.services = List.copyOf(services);
  }

  public Path socket() {
    return socket;
  }

  public void start() throws IOException {
    Path dir = socket.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.deleteIfExists(socket);
    group = new MultiThreadIoEventLoopGroup(2, EpollIoHandler.newFactory());
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .channelType(EpollServerDomainSocketChannel.class)
            .bossEventLoopGroup(group)
            .workerEventLoopGroup(group);
    services.forEach(builder::addService);
    try {
      server = builder.build().start();
    } catch (IOException e) {
      group.shutdownGracefully();
      throw new IOException("agent API: cannot listen on Unix socket " + socket + ": " + e.getMessage(), e);
    }
    Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
    log.info("agent API listening on {}", socket);
  }

  public void stop() {
    if (server != null) {
      server.shutdown();
      try {
        if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
          server.shutdownNow();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        server.shutdownNow();
      }
    }
    if (group != null) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
    try {
      Files.deleteIfExists(socket);
    } catch (IOException e) {
      log.debug("cannot remove {}", socket, e);
    }
  }
}
