package dev.meshwork.e2e.sandbox.kubelet;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.agent.api.AgentApiServer;
import dev.meshwork.agent.endpoint.CniInstaller;
import dev.meshwork.agent.endpoint.DatapathEndpointSink;
import dev.meshwork.agent.endpoint.EndpointApi;
import dev.meshwork.agent.endpoint.EndpointConfig;
import dev.meshwork.agent.endpoint.EndpointManager;
import dev.meshwork.agent.endpoint.IpCommandLinkManager;
import dev.meshwork.agent.endpoint.PodIdentity;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import dev.meshwork.testing.process.Command;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shim with Meshwork's own CNI plugin: the real {@code bin/meshwork-cni} launcher and plugin
 * jar, installed by {@link CniInstaller} as on a node, talking to the agent's {@link EndpointApi}
 * (an {@link EndpointManager} with real veth pairs in a test node namespace, a fake datapath, every
 * pod given an identity at once) on a Unix socket. The blog's backend pods get addresses from the
 * node's pod CIDR and answer each other with their names; close() removes the agent's endpoints
 * through DEL. Needs root and the plugin jar ({@code ./mvnw -pl cni-plugin -am package}).
 */
@Tag("privileged")
class KubeletShimMeshworkCniPrivilegedIT {

  static final String NS = "testing";

  @RegisterExtension final MockApi api = new MockApi();
  KubernetesClient client;
  @TempDir Path dir;
  NetworkNamespaces namespaces;
  AgentApiServer agent;
  EndpointManager endpoints;
  KubeletShim shim;

  /** The checkout: the nearest directory upwards with {@code bin/meshwork-cni}. */
  static Optional<Path> checkout() {
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isRegularFile(d.resolve("bin/meshwork-cni")) && Files.isDirectory(d.resolve("cni-plugin"))) {
        return Optional.of(d);
      }
    }
    return Optional.empty();
  }

  static boolean hasPluginJar(Path pluginHome) {
    try (var files = Files.list(pluginHome)) {
      return files.anyMatch(f -> f.getFileName().toString().matches("meshwork-cni-plugin-.*\\.jar"));
    } catch (IOException e) {
      return false;
    }
  }

  @BeforeEach
  void agentOnANode() throws Exception {
    NetworkNamespaces.assumeRoot();
    Path root = checkout().orElse(null);
    Assumptions.assumeTrue(root != null && hasPluginJar(root.resolve("cni-plugin/target")),
        "skipped: no meshwork-cni-plugin jar in cni-plugin/target; build it first with ./mvnw -pl cni-plugin -am package");
    client = api.client();
    namespaces = new NetworkNamespaces("klt");
    NetworkNamespace node = namespaces.create("mwnode");
    node.nsenterOrThrow("sysctl", "-qw", "net.ipv4.ip_forward=1");
    endpoints = EndpointManager.open(
        new EndpointConfig(IpPrefix.parse("10.77.9.0/24"), dir.resolve("endpoints"), 1450, Duration.ofSeconds(5)),
        new IpCommandLinkManager(List.of("nsenter", "--net=" + node.path())),
        (pod, timeout) -> Optional.of(new PodIdentity(7001, List.of("k8s:app=backend"))),
        new DatapathEndpointSink(new FakeDatapath()));
    agent = new AgentApiServer(dir.resolve("agent.sock"), List.of(new EndpointApi(endpoints)));
    agent.start();
    new CniInstaller(new CniInstaller.Settings(root.resolve("bin/meshwork-cni"), null, root.resolve("cni-plugin/target"),
        dir.resolve("opt/cni/bin"), dir.resolve("etc/cni/net.d"), dir.resolve("agent.sock"), 1450,
        dir.resolve("cni.log"), "info", null)).install();
  }

  @AfterEach
  void stop() {
    if (shim != null) {
      shim.close();
      KubeletShim.cleanUp(dir.resolve("run"));
    }
    if (agent != null) {
      agent.stop();
    }
    if (namespaces != null) {
      namespaces.close();
    }
  }

  @Test
  void theBlogsBackendPodsGetAddressesFromTheAgentAndAnswerEachOther() throws Exception {
    client.services().inNamespace(NS).resource(KubeletShimTest.backendSvc()).create();
    client.apps().deployments().inNamespace(NS).resource(KubeletShimTest.backendDeployment(2)).create();
    shim = new KubeletShim(client, new KubeletShim.Settings(
        "k8s-shared-cluster", IpPrefix.parse("10.100.0.0/16"),
        List.of(new KubeletShim.NodeSpec("node-a", dir.resolve("etc/cni/net.d").resolve(CniInstaller.CONFLIST))),
        dir.resolve("opt/cni/bin").resolve(CniInstaller.PLUGIN), dir.resolve("run"), namespaces.prefix() + "-p"));
    shim.start();

    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).ignoreExceptions().untilAsserted(() ->
        assertThat(client.pods().inNamespace(NS).list().getItems())
            .hasSize(2)
            .allSatisfy(p -> assertThat(Pods.isReady(p)).isTrue()));
    List<Pod> pods = client.pods().inNamespace(NS).list().getItems();
    assertThat(pods).allSatisfy(p -> assertThat(p.getStatus().getPodIP()).matches("10\\.77\\.9\\.\\d+"));
    assertThat(endpoints.endpoints()).hasSize(2);
    Pod a = pods.get(0);
    Pod b = pods.get(1);
    String netnsA = PodRecord.read(dir.resolve("run"), NS, a.getMetadata().getName()).orElseThrow().netns();
    assertThat(Command.run(List.of("ip", "netns", "exec", netnsA, "/bin/busybox", "wget", "-qO-",
            "http://" + b.getStatus().getPodIP() + ":3000/"), Duration.ofSeconds(10)).output())
        .isEqualTo(b.getMetadata().getName());

    shim.close();

    assertThat(endpoints.endpoints()).as("every endpoint removed by DEL").isEmpty();
    assertThat(Path.of("/run/netns", netnsA)).doesNotExist();
    assertThat(PodRecord.readAll(dir.resolve("run"))).isEmpty();
  }
}
