package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.api.AgentApiServer;
import dev.meshwork.datapath.FakeDatapath;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * kubelet's path end to end: the real {@code bin/meshwork-cni} launcher, installed by
 * {@link CniInstaller} with the plugin home baked in, and the plugin jar, executed as a process
 * with the CNI environment and the installed conflist's configuration, talk to {@link EndpointApi} on a Unix socket; the
 * endpoint manager sets up real veth pairs inside a "node" namespace. Needs root and the plugin
 * jar ({@code ./mvnw -pl cni-plugin -am package}).
 */
@Tag("privileged")
class CniEndToEndPrivilegedIT {
  private static final Path LAUNCHER = Path.of("..", "bin", "meshwork-cni").toAbsolutePath().normalize();
  private static final Path PLUGIN_HOME = Path.of("..", "cni-plugin", "target").toAbsolutePath().normalize();
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  private NetworkNamespaces namespaces;
  private NetworkNamespace node;
  private AgentApiServer server;
  private final FakeIdentityResolver identities = new FakeIdentityResolver();
  private final FakeDatapath datapath = new FakeDatapath();

  @BeforeEach
  void agent() throws Exception {
    NetworkNamespaces.assumeRoot();
    Assumptions.assumeTrue(hasPluginJar(),
        "skipped: no meshwork-cni-plugin jar in " + PLUGIN_HOME + "; build it first with ./mvnw -pl cni-plugin -am package");
    namespaces = new NetworkNamespaces("cni-e2e");
    node = namespaces.create("node");
    node.nsenterOrThrow("sysctl", "-qw", "net.ipv4.ip_forward=1");
    EndpointManager manager = EndpointManager.open(
        new EndpointConfig(IpPrefix.parse("10.77.4.0/24"), dir.resolve("state"), 1450, Duration.ofSeconds(2)),
        new IpCommandLinkManager(List.of("nsenter", "--net=" + node.path())), identities,
        new DatapathEndpointSink(datapath));
    server = new AgentApiServer(dir.resolve("agent.sock"), List.of(new EndpointApi(manager)));
    server.start();
    // installed as the chart's init step would: launcher with the plugin home baked in, conflist
    new CniInstaller(new CniInstaller.Settings(LAUNCHER, null, PLUGIN_HOME, dir.resolve("opt/cni/bin"),
        dir.resolve("etc/cni/net.d"), dir.resolve("agent.sock"), 1450, null, "info", null)).install();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop();
    }
    if (namespaces != null) {
      namespaces.close();
    }
  }

  private static boolean hasPluginJar() {
    try (var files = Files.list(PLUGIN_HOME)) {
      return files.anyMatch(f -> f.getFileName().toString().matches("meshwork-cni-plugin-.*\\.jar"));
    } catch (IOException e) {
      return false;
    }
  }

  private record Run(int exit, String stdout, String stderr) {
    JsonNode json() {
      return JSON.readTree(stdout);
    }
  }

  private Run cni(String command, String containerId, NetworkNamespace netns, String podName) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("PATH", "/usr/bin:/bin:/usr/sbin:/sbin");
    env.put("MESHWORK_JAVA_HOME", System.getProperty("java.home"));
    env.put("CNI_COMMAND", command);
    env.put("CNI_CONTAINERID", containerId);
    env.put("CNI_IFNAME", "eth0");
    env.put("CNI_PATH", dir.resolve("opt/cni/bin").toString());
    if (netns != null) {
      env.put("CNI_NETNS", netns.path().toString());
    }
    env.put("CNI_ARGS", "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=" + podName);
    // what a runtime passes for a conflist: the list's cniVersion and name with the plugin's fields
    JsonNode list = JSON.readTree(Files.readString(dir.resolve("etc/cni/net.d").resolve(CniInstaller.CONFLIST)));
    tools.jackson.databind.node.ObjectNode plugin = (tools.jackson.databind.node.ObjectNode) list.path("plugins").get(0);
    plugin.put("cniVersion", list.path("cniVersion").asString());
    plugin.put("name", list.path("name").asString());
    String config = JSON.writeValueAsString(plugin);
    ProcessBuilder builder = new ProcessBuilder(dir.resolve("opt/cni/bin").resolve(CniInstaller.PLUGIN).toString());
    builder.environment().clear();
    builder.environment().putAll(env);
    Process process = builder.start();
    try (var in = process.getOutputStream()) {
      in.write(config.getBytes(StandardCharsets.UTF_8));
    }
    String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String stderr = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("meshwork-cni " + command + " finished").isTrue();
    return new Run(process.exitValue(), stdout, stderr);
  }

  @Test
  void podsAddedByThePluginGetAddressesFromThePodCidrAndReachEachOther() throws Exception {
    NetworkNamespace a = namespaces.create("pod-a");
    NetworkNamespace b = namespaces.create("pod-b");
    identities.publish(new PodRef("default", "a"), new PodIdentity(6001, List.of("k8s:app=a")));
    identities.publish(new PodRef("default", "b"), new PodIdentity(6002, List.of("k8s:app=b")));

    Run addA = cni("ADD", "mwt-ctr-a", a, "a");
    Run addB = cni("ADD", "mwt-ctr-b", b, "b");

    assertThat(addA.exit()).as(addA.stdout() + addA.stderr()).isZero();
    assertThat(addB.exit()).as(addB.stdout() + addB.stderr()).isZero();
    String ipA = addA.json().path("ips").get(0).path("address").asString();
    String ipB = addB.json().path("ips").get(0).path("address").asString();
    assertThat(ipA).startsWith("10.77.4.").endsWith("/32");
    assertThat(addA.json().path("ips").get(0).path("gateway").asString()).isEqualTo("10.77.4.1");
    a.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", ipB.replace("/32", ""));
    b.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", ipA.replace("/32", ""));

    Run again = cni("ADD", "mwt-ctr-a", a, "a");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.json().path("code").asInt()).isEqualTo(CniFailure.ALREADY_EXISTS);
    assertThat(again.json().path("msg").asString()).contains("mwt-ctr-a");

    assertThat(cni("DEL", "mwt-ctr-a", a, "a").exit()).isZero();
    assertThat(cni("DEL", "mwt-ctr-a", null, "a").exit()).isZero();
    assertThat(a.exec("ip", "link", "show", "dev", "eth0").exitCode()).isNotZero();
  }
}
