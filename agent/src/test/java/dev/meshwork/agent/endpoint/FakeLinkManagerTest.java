package dev.meshwork.agent.endpoint;

/** The in-memory link manager passes the same contract as the kernel-backed ones. */
class FakeLinkManagerTest extends LinkManagerContract {
  private FakeLinkManager fake;
  private int namespaces;

  @Override
  LinkManager newLinkManager() {
    fake = new FakeLinkManager();
    return fake;
  }

  @Override
  String newPodNamespace(String role) {
    String netns = "/run/netns/fake-" + role + "-" + ++namespaces;
    fake.createNamespace(netns, "lo");
    return netns;
  }

  @Override
  void deletePodNamespace(PodLink link) {
    fake.destroyNamespace(link.netns());
  }

  @Override
  void removePodAddress(PodLink link) {
    fake.breakAddress(link.hostInterface());
  }

  @Override
  String missingNamespace() {
    return "/run/netns/fake-never-created";
  }
}
