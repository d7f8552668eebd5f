package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.proto.v1.EndpointInfo;
import io.grpc.BindableService;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * This node's pod endpoints inside the running agent: at start it learns the node's pod CIDR
 * (waiting for the operator if need be) and opens the {@link EndpointManager}, which restores
 * every endpoint from disk before it returns; then {@link #api()} serves the CNI plugin. Start it
 * before the agent API, which serves {@link #api()}.
 */
public final class NodeEndpoints {
  private final PodCidrSource podCidr;
  private final Function<IpPrefix, EndpointConfig> config;
  private final LinkManager links;
  private final IdentityResolver identities;
  private final EndpointSink sink;
  private volatile EndpointManager manager;

  /**
   * @param podCidr where the node's pod CIDR comes from
   * @param config the manager's configuration for the pod CIDR found
   */
  public NodeEndpoints(
      PodCidrSource podCidr,
      Function<IpPrefix, EndpointConfig> config,
      LinkManager links,
      IdentityResolver identities,
      EndpointSink sink) {
    this.podCidr = Objects.requireNonNull(podCidr, "podCidr");
    this.config = Objects.requireNonNull(config, "config");
    this.links = Objects.requireNonNull(links, "links");
    this.identities = Objects.requireNonNull(identities, "identities");
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  /**
   * Waits for the pod CIDR, then opens the manager (restoring the endpoints on disk). A JVM
   * shutdown (SIGTERM) during the wait interrupts it, so the agent stops at once instead of when
   * the wait times out (the lifecycle lets a start hook finish before it stops).
   */
  public void start() throws Exception {
    Thread starting = Thread.currentThread();
    Thread interruptOnShutdown = new Thread(starting::interrupt, "endpoints-pod-cidr-wait-shutdown");
    Runtime.getRuntime().addShutdownHook(interruptOnShutdown);
    IpPrefix cidr;
    try {
      cidr = podCidr.await();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(interruptOnShutdown);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run; nothing to remove
      }
    }
    manager = EndpointManager.open(config.apply(cidr), links, identities, sink);
  }

  /** The manager once started. */
  public Optional<EndpointManager> manager() {
    return Optional.ofNullable(manager);
  }

  /** The endpoints for {@code meshwork endpoint list}; empty before start. */
  public List<EndpointInfo> describe() {
    EndpointManager current = manager;
    return current == null ? List.of() : current.describe();
  }

  /**
   * The {@code EndpointService} for the agent API. It binds when the API server starts, which
   * must be after {@link #start()}.
   */
  public BindableService api() {
    return () -> {
      EndpointManager current = manager;
      if (current == null) {
        throw new IllegalStateException("the endpoint manager is not started: start it before the agent API");
      }
      return new EndpointApi(current).bindService();
    };
  }
}
