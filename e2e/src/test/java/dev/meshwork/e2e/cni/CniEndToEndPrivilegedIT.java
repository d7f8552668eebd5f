package dev.meshwork.e2e.cni;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.endpoint.CniFailure;
import dev.meshwork.agent.endpoint.PodRef;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kubelet's path end to end: the real {@code bin/meshwork-cni} launcher, installed by {@code
 * CniInstaller} with the plugin home baked in, and the plugin jar, executed as a process with the
 * CNI environment and the installed conflist's configuration, talk to the agent's {@code
 * EndpointApi} on a Unix socket; the endpoint manager sets up real veth pairs inside a "node"
 * namespace. Needs root and the plugin jar ({@code ./mvnw -pl cni-plugin -am package}).
 */
@Tag("privileged")
class CniEndToEndPrivilegedIT {
  @TempDir Path dir;
  private NodeAgentFixture node;
  private CniProcess cni;

  @BeforeEach
  void agent() throws Exception {
    NetworkNamespaces.assumeRoot();
    Assumptions.assumeTrue(Checkout.pluginMissing().isEmpty(), () -> "skipped: " + Checkout.pluginMissing().orElseThrow());
    node = new NodeAgentFixture("ep2-cni", dir, IpPrefix.parse("10.77.4.0/24"), Duration.ofSeconds(2));
    cni = new CniProcess(node.plugin(), node.conflist());
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void podsAddedByThePluginGetAddressesFromThePodCidrAndReachEachOther() throws Exception {
    NetworkNamespace a = node.namespaces.create("pod-a");
    NetworkNamespace b = node.namespaces.create("pod-b");
    node.publish(new PodRef("default", "a"), 6001, "k8s:app=a");
    node.publish(new PodRef("default", "b"), 6002, "k8s:app=b");

    CniProcess.Run addA = cni.run("ADD", "mwt-ctr-a", a.path(), "default", "a");
    CniProcess.Run addB = cni.run("ADD", "mwt-ctr-b", b.path(), "default", "b");

    assertThat(addA.exit()).as("%s", addA).isZero();
    assertThat(addB.exit()).as("%s", addB).isZero();
    assertThat(addA.json().path("ips").get(0).path("address").asString()).startsWith("10.77.4.").endsWith("/32");
    assertThat(addA.json().path("ips").get(0).path("gateway").asString()).isEqualTo("10.77.4.1");
    a.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", addB.address());
    b.execOrThrow("busybox", "ping", "-c", "1", "-W", "2", addA.address());

    CniProcess.Run again = cni.run("ADD", "mwt-ctr-a", a.path(), "default", "a");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.json().path("code").asInt()).isEqualTo(CniFailure.ALREADY_EXISTS);
    assertThat(again.json().path("msg").asString()).contains("mwt-ctr-a");

    assertThat(cni.run("DEL", "mwt-ctr-a", a.path(), "default", "a").exit()).isZero();
    assertThat(cni.run("DEL", "mwt-ctr-a", null, "default", "a").exit()).isZero();
    assertThat(a.exec("ip", "link", "show", "dev", "eth0").exitCode()).isNotZero();
  }
}
