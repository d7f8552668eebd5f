package dev.meshwork.cli.testing;

import dev.meshwork.proto.v1.ClusterMeshStatus;
import dev.meshwork.proto.v1.EndpointList;
import dev.meshwork.proto.v1.IdentityList;
import dev.meshwork.proto.v1.InspectionServiceGrpc;
import dev.meshwork.proto.v1.ListRequest;
import dev.meshwork.proto.v1.LoadBalancerEntryList;
import dev.meshwork.proto.v1.NodeList;
import dev.meshwork.proto.v1.ServiceList;
import dev.meshwork.proto.v1.TunnelList;
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
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An in-process InspectionService served over a Unix socket exactly like the agent serves it
 * (grpc-netty, epoll, DomainSocketAddress). Tests set its answers and read the last request.
 */
public final class FakeAgent implements AutoCloseable {

  private final Path socket;
  private final EventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final EventLoopGroup workers = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
  private final Server server;
  private final AtomicReference<ListRequest> lastRequest = new AtomicReference<>();
  private final AtomicInteger calls = new AtomicInteger();
  private volatile Status failure;

  public volatile NodeList nodes = NodeList.getDefaultInstance();
  public volatile TunnelList tunnels = TunnelList.getDefaultInstance();
  public volatile ServiceList services = ServiceList.getDefaultInstance();
  public volatile LoadBalancerEntryList lbEntries = LoadBalancerEntryList.getDefaultInstance();
  public volatile IdentityList identities = IdentityList.getDefaultInstance();
  public volatile EndpointList endpoints = EndpointList.getDefaultInstance();
  public volatile ClusterMeshStatus clusterMesh = ClusterMeshStatus.getDefaultInstance();

  private FakeAgent(Path socket) throws IOException {
    this.socket = socket;
    this.server =
        NettyServerBuilder.forAddress(new DomainSocketAddress(socket.toString()))
            .bossEventLoopGroup(boss)
            .workerEventLoopGroup(workers)
            .channelType(EpollServerDomainSocketChannel.class)
            .addService(new Inspection())
            .build()
            .start();
  }

  public static FakeAgent start(Path socket) throws IOException {
    return new FakeAgent(socket);
  }

  public Path socket() {
    return socket;
  }

  public ListRequest lastRequest() {
    return lastRequest.get();
  }

  /** How many calls the agent has answered. */
  public int calls() {
    return calls.get();
  }

  /** Every call fails with this status from now on. */
  public void failWith(Status status) {
    this.failure = status;
  }

  @Override
  public void close() {
    server.shutdownNow();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
      boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Inspection extends InspectionServiceGrpc.InspectionServiceImplBase {
    private <T> void answer(ListRequest request, T value, StreamObserver<T> observer) {
      lastRequest.set(request);
      calls.incrementAndGet();
      Status status = failure;
      if (status != null) {
        observer.onError(status.asRuntimeException());
        return;
      }
      observer.onNext(value);
      observer.onCompleted();
    }

    @Override
    public void listNodes(ListRequest request, StreamObserver<NodeList> observer) {
      answer(request, nodes, observer);
    }

    @Override
    public void listTunnels(ListRequest request, StreamObserver<TunnelList> observer) {
      answer(request, tunnels, observer);
    }

    @Override
    public void listServices(ListRequest request, StreamObserver<ServiceList> observer) {
      answer(request, services, observer);
    }

    @Override
    public void listLoadBalancerEntries(ListRequest request, StreamObserver<LoadBalancerEntryList> observer) {
      answer(request, lbEntries, observer);
    }

    @Override
    public void listIdentities(ListRequest request, StreamObserver<IdentityList> observer) {
      answer(request, identities, observer);
    }

    @Override
    public void listEndpoints(ListRequest request, StreamObserver<EndpointList> observer) {
      answer(request, endpoints, observer);
    }

    @Override
    public void getClusterMeshStatus(ListRequest request, StreamObserver<ClusterMeshStatus> observer) {
      answer(request, clusterMesh, observer);
    }
  }
}
