package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.datapath.Ipv4;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LinkManager} does, run against {@link NetlinkLinkManager} and {@link
 * IpCommandLinkManager} (real namespaces, as root) and {@link FakeLinkManager}. A subclass
 * supplies the manager and the pod namespaces; each test gets fresh ones.
 */
abstract class LinkManagerContract {
  static final int GATEWAY = Ipv4.parse("10.79.0.1");

  LinkManager links;

  /** The implementation under test, working in a node namespace of its own. */
  abstract LinkManager newLinkManager() throws Exception;

  /** A new pod namespace holding only {@code lo}; returns its path. */
  abstract String newPodNamespace(String role) throws Exception;

  /**
   * The pod sandbox is torn down: the namespace of {@code link} disappears, and with it (once the
   * kernel has finished, which it does asynchronously) the veth pair.
   */
  abstract void deletePodNamespace(PodLink link) throws Exception;

  /** Someone removes the pod's address behind the manager's back. */
  abstract void removePodAddress(PodLink link) throws Exception;

  /** A namespace path that does not exist. */
  abstract String missingNamespace();

  @BeforeEach
  void createManager() throws Exception {
    links = newLinkManager();
  }

  static PodLink podLink(String hostInterface, String netns, int lastOctet) {
    return new PodLink(hostInterface, String.format("0e:00:00:00:00:%02x", lastOctet), netns, "eth0",
        String.format("0a:58:0a:4f:00:%02x", lastOctet), Ipv4.parse("10.79.0." + lastOctet), GATEWAY, 1450);
  }

  @Test
  void aSetUpPairVerifiesCleanAndShowsInThePod() throws Exception {
    PodLink link = podLink("mwnc1", newPodNamespace("pod"), 2);

    links.setUp(link);

    assertThat(links.verify(link)).isEmpty();
    assertThat(links.podInterfaceExists(link.netns(), "eth0")).isTrue();
  }

  @Test
  void podInterfaceExistsOnlyForInterfacesOfAnExistingNamespace() throws Exception {
    String netns = newPodNamespace("pod");

    assertThat(links.podInterfaceExists(netns, "lo")).isTrue();
    assertThat(links.podInterfaceExists(netns, "eth0")).isFalse();
    assertThat(links.podInterfaceExists(missingNamespace(), "lo")).isFalse();
  }

  @Test
  void removeTakesBothSidesAwayAndMayBeRepeated() throws Exception {
    PodLink link = podLink("mwnc2", newPodNamespace("pod"), 3);
    links.setUp(link);

    links.remove(link.hostInterface());
    links.remove(link.hostInterface());
    links.remove("mwnc-never");

    assertThat(links.podInterfaceExists(link.netns(), "eth0")).isFalse();
    assertThat(links.verify(link)).contains("host interface mwnc2 is missing");
  }

  @Test
  void setUpReplacesALeftoverPairOfTheSameAttachment() throws Exception {
    PodLink link = podLink("mwnc3", newPodNamespace("pod"), 4);
    links.setUp(link);

    links.setUp(link);

    assertThat(links.verify(link)).isEmpty();
  }

  @Test
  void podsInTheirOwnNamespacesGetIndependentPairs() throws Exception {
    PodLink a = podLink("mwnc4", newPodNamespace("pod-a"), 5);
    PodLink b = podLink("mwnc5", newPodNamespace("pod-b"), 6);
    links.setUp(a);
    links.setUp(b);

    links.remove(a.hostInterface());

    assertThat(links.verify(b)).isEmpty();
    assertThat(links.podInterfaceExists(a.netns(), "eth0")).isFalse();
  }

  @Test
  void verifyNamesTheMissingPodAddress() throws Exception {
    PodLink link = podLink("mwnc6", newPodNamespace("pod"), 7);
    links.setUp(link);

    removePodAddress(link);

    assertThat(links.verify(link)).contains("eth0 does not carry 10.79.0.7/32");
  }

  @Test
  void verifyReportsTheMissingPairWhenThePodNamespaceIsGone() throws Exception {
    PodLink link = podLink("mwnc7", newPodNamespace("pod"), 8);
    links.setUp(link);

    deletePodNamespace(link);

    assertThat(links.verify(link)).contains("host interface mwnc7 is missing");
    assertThat(links.podInterfaceExists(link.netns(), "eth0")).isFalse();
  }

  @Test
  void setUpIntoAMissingNamespaceFailsNamingTheVethAndTheNamespace() {
    PodLink link = podLink("mwnc8", missingNamespace(), 9);

    assertThatThrownBy(() -> links.setUp(link))
        .isInstanceOf(LinkException.class)
        .hasMessageContaining("mwnc8")
        .hasMessageContaining(missingNamespace());
  }
}
