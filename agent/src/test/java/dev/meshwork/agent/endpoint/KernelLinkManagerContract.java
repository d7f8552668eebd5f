package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.Ipv4;
import dev.meshwork.testing.netns.NetworkNamespace;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;

/**
 * The link manager contract against the kernel: a private node namespace and real pod
 * namespaces ({@code mwt-mwn-links-<random>-*}), deleted afterwards (which deletes every veth
 * made in them). Never touches the host namespace. Needs root, iproute2 and nsenter.
 */
@Tag("privileged")
abstract class KernelLinkManagerContract extends LinkManagerContract {
  NetworkNamespaces namespaces;
  NetworkNamespace node;
  private final Map<String, NetworkNamespace> pods = new HashMap<>();

  /** The implementation working in the node namespace at {@code nodeNetns}. */
  abstract LinkManager linkManagerFor(Path nodeNetns);

  @Override
  LinkManager newLinkManager() {
    NetworkNamespaces.assumeRoot();
    namespaces = new NetworkNamespaces("mwn-links");
    node = namespaces.create("node");
    return linkManagerFor(node.path());
  }

  @AfterEach
  void deleteNamespaces() {
    if (namespaces != null) {
      namespaces.close();
    }
  }

  @Override
  String newPodNamespace(String role) {
    NetworkNamespace pod = namespaces.create(role);
    pods.put(pod.path().toString(), pod);
    return pod.path().toString();
  }

  @Override
  void deletePodNamespace(PodLink link) throws InterruptedException {
    pods.remove(link.netns()).close();
    // the kernel dismantles a deleted namespace in the background: wait for the host side to go
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (node.exec("ip", "link", "show", "dev", link.hostInterface()).exitCode() == 0) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("host side " + link.hostInterface() + " still exists 10 s after its pod namespace was deleted");
      }
      Thread.sleep(20);
    }
  }

  @Override
  void removePodAddress(PodLink link) {
    pods.get(link.netns()).execOrThrow("ip", "addr", "del", Ipv4.format(link.ip()) + "/32", "dev", link.podInterface());
  }

  @Override
  String missingNamespace() {
    return "/run/netns/" + namespaces.prefix() + "-never-created";
  }

  Optional<NetworkNamespace> pod(String netns) {
    return Optional.ofNullable(pods.get(netns));
  }
}
