package dev.meshwork.agent.endpoint;

import dev.meshwork.datapath.Ipv4;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** In-memory {@link LinkManager}: veth pairs as records, namespaces as sets of interface names. */
final class FakeLinkManager implements LinkManager {
  private final Map<String, PodLink> links = new HashMap<>();
  private final Map<String, Set<String>> namespaces = new HashMap<>();
  private String failSetUpWith;

  synchronized void createNamespace(String netns, String... interfaces) {
    namespaces.put(netns, new HashSet<>(List.of(interfaces)));
  }

  /** The namespace disappears (the pod sandbox was torn down): the kernel takes the veth pair with it. */
  synchronized void destroyNamespace(String netns) {
    namespaces.remove(netns);
    links.values().removeIf(l -> l.netns().equals(netns));
  }

  synchronized void failNextSetUp(String message) {
    failSetUpWith = message;
  }

  synchronized Map<String, PodLink> links() {
    return Map.copyOf(links);
  }

  /** Someone removed the pod's address (for CHECK tests). */
  synchronized void breakAddress(String hostInterface) {
    PodLink l = links.get(hostInterface);
    links.put(hostInterface, new PodLink(l.hostInterface(), l.hostMac(), l.netns(), l.podInterface(), l.podMac(), 0, l.gateway(), l.mtu()));
  }

  @Override
  public synchronized boolean podInterfaceExists(String netns, String ifname) {
    return namespaces.getOrDefault(netns, Set.of()).contains(ifname);
  }

  @Override
  public synchronized void setUp(PodLink link) throws LinkException {
    if (!namespaces.containsKey(link.netns())) {
      throw new LinkException("cannot create veth " + link.hostInterface() + ": network namespace " + link.netns() + " does not exist");
    }
    links.put(link.hostInterface(), link);
    if (failSetUpWith != null) {
      // a half-done set-up: the host side exists, the pod side was not configured
      String message = failSetUpWith;
      failSetUpWith = null;
      throw new LinkException(message);
    }
    namespaces.get(link.netns()).add(link.podInterface());
  }

  @Override
  public synchronized void remove(String hostInterface) {
    PodLink link = links.remove(hostInterface);
    if (link != null && namespaces.containsKey(link.netns())) {
      namespaces.get(link.netns()).remove(link.podInterface());
    }
  }

  @Override
  public synchronized List<String> verify(PodLink expected) {
    List<String> problems = new ArrayList<>();
    PodLink actual = links.get(expected.hostInterface());
    if (actual == null) {
      problems.add("host interface " + expected.hostInterface() + " is missing");
    } else if (actual.ip() != expected.ip()) {
      problems.add(expected.podInterface() + " does not carry " + Ipv4.format(expected.ip()) + "/32");
    } else if (!actual.equals(expected)) {
      problems.add("interfaces differ: " + actual + " vs " + expected);
    }
    return problems;
  }
}
