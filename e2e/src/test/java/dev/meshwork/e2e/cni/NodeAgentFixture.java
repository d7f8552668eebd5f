package dev.meshwork.e2e.cni;

import dev.meshwork.agent.api.AgentApiServer;
import dev.meshwork.agent.endpoint.CniInstaller;
import dev.meshwork.agent.endpoint.DatapathEndpointSink;
import dev.meshwork.agent.endpoint.EndpointApi;
import dev.meshwork.agent.endpoint.EndpointConfig;
import dev.meshwork.agent.endpoint.EndpointManager;
import dev.meshwork.agent.endpoint.EndpointLinks;
import dev.meshwork.agent.endpoint.PodIdentity;
import dev.meshwork.agent.endpoint.PodRef;
import dev.meshwork.agent.endpoint.PollingIdentityResolver;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One node as the CNI plugin sees it: a "node" network namespace (IP forwarding on), the agent's
 * endpoint side (the real {@link EndpointManager} with its link manager, rtnetlink by default,
 * working in the node namespace, a {@link FakeDatapath}) served by {@link AgentApiServer} on a temporary Unix socket, and the
 * plugin installed by {@link CniInstaller} (launcher with the plugin home baked in, conflist) into
 * temporary {@code opt/cni/bin} and {@code etc/cni/net.d} directories. Identities are published by
 * the test, as the operator would.
 */
final class NodeAgentFixture implements AutoCloseable {
  final NetworkNamespaces namespaces;
  final NetworkNamespace node;
  final Path dir;
  final Path socket;
  final Path cniBinDir;
  final Path netConfDir;
  final IpPrefix podCidr;
  final FakeDatapath datapath = new FakeDatapath();
  final EndpointManager manager;
  private final Map<PodRef, PodIdentity> identities = new ConcurrentHashMap<>();
  private final AgentApiServer server;

  NodeAgentFixture(String purpose, Path dir, IpPrefix podCidr, Duration identityTimeout) throws Exception {
    this(purpose, dir, podCidr, identityTimeout, EndpointLinks.NETLINK);
  }

  NodeAgentFixture(String purpose, Path dir, IpPrefix podCidr, Duration identityTimeout, EndpointLinks links)
      throws Exception {
    this.dir = dir;
    this.podCidr = podCidr;
    this.socket = dir.resolve("agent.sock");
    this.cniBinDir = dir.resolve("opt/cni/bin");
    this.netConfDir = dir.resolve("etc/cni/net.d");
    namespaces = new NetworkNamespaces(purpose);
    try {
      node = namespaces.create("node");
      node.nsenterOrThrow("sysctl", "-qw", "net.ipv4.ip_forward=1");
      manager = EndpointManager.open(
          new EndpointConfig(podCidr, dir.resolve("state"), 1450, identityTimeout),
          links.linkManager(Optional.of(node.path())),
          new PollingIdentityResolver(pod -> Optional.ofNullable(identities.get(pod)), Duration.ofMillis(20)),
          new DatapathEndpointSink(datapath));
      server = new AgentApiServer(socket, List.of(new EndpointApi(manager)));
      server.start();
      new CniInstaller(new CniInstaller.Settings(Checkout.launcher(), null, Checkout.pluginHome(), cniBinDir,
          netConfDir, socket, 1450, dir.resolve("meshwork-cni.log"), "info", null)).install();
    } catch (Exception | Error e) {
      namespaces.close();
      throw e;
    }
  }

  /** The operator has published the identity of {@code pod}. */
  void publish(PodRef pod, int identity, String... labels) {
    identities.put(pod, new PodIdentity(identity, List.of(labels)));
  }

  Path plugin() {
    return cniBinDir.resolve(CniInstaller.PLUGIN);
  }

  Path conflist() {
    return netConfDir.resolve(CniInstaller.CONFLIST);
  }

  String conflistText() throws Exception {
    return Files.readString(conflist());
  }

  @Override
  public void close() {
    try {
      server.stop();
    } finally {
      namespaces.close(); // deleting the node namespace deletes the host sides of the veths
    }
  }
}
