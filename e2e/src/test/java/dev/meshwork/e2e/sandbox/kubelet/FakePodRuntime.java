package dev.meshwork.e2e.sandbox.kubelet;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A pod runtime in memory: addresses 10.9.0.2, 10.9.0.3, ... in attach order, servers that
 * accept as soon as they are "started" (unless a port is told to refuse), name files kept by
 * netns, and a log of every attach, detach and remove. {@link #failAttaches} makes the next ADDs
 * fail like a plugin error would.
 */
final class FakePodRuntime implements PodRuntime {

  record Detach(String pod, String netns, String prevResult) {}

  private final AtomicInteger nextHost = new AtomicInteger(2);
  private final AtomicInteger attachFailures = new AtomicInteger();
  private volatile int failureCode;
  final List<String> attached = new ArrayList<>();
  final List<Detach> detached = new ArrayList<>();
  final List<String> removed = new ArrayList<>();
  /** netns → hosts file. */
  final Map<String, String> hosts = new ConcurrentHashMap<>();
  final Map<String, String> resolvConfs = new ConcurrentHashMap<>();
  /** pod key → (ports served, answer). */
  final Map<String, Set<Integer>> served = new ConcurrentHashMap<>();
  final Map<String, String> answers = new ConcurrentHashMap<>();
  final Set<Integer> refusing = ConcurrentHashMap.newKeySet();

  /** The next {@code times} ADDs fail with the CNI error {@code code}. */
  void failAttaches(int times, int code) {
    failureCode = code;
    attachFailures.set(times);
  }

  @Override
  public Attachment attach(Sandbox sandbox) throws PodRuntimeException {
    if (attachFailures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new PodRuntimeException(
          sandbox + ": CNI ADD of container " + sandbox.containerId() + ": error " + failureCode + ": agent says no",
          failureCode, null);
    }
    String ip = "10.9.0." + nextHost.getAndIncrement();
    synchronized (this) {
      attached.add(sandbox.key());
    }
    return new Attachment(ip, "{\"cniVersion\":\"1.1.0\",\"ips\":[{\"address\":\"" + ip + "/32\"}]}");
  }

  @Override
  public synchronized void detach(Sandbox sandbox, String prevResult) {
    detached.add(new Detach(sandbox.key(), sandbox.netns(), prevResult));
  }

  @Override
  public void writeNameFiles(Sandbox sandbox, String hostsFile, String resolvConf) {
    hosts.put(sandbox.netns(), hostsFile);
    resolvConfs.put(sandbox.netns(), resolvConf);
  }

  @Override
  public void serve(Sandbox sandbox, String answer, Set<Integer> ports) {
    served.put(sandbox.key(), Set.copyOf(ports));
    answers.put(sandbox.key(), answer);
  }

  @Override
  public boolean accepts(Sandbox sandbox, String ip, int port) {
    return !refusing.contains(port) && served.getOrDefault(sandbox.key(), Set.of()).contains(port);
  }

  @Override
  public synchronized void remove(Sandbox sandbox) {
    removed.add(sandbox.key());
    hosts.remove(sandbox.netns());
    resolvConfs.remove(sandbox.netns());
    served.remove(sandbox.key());
  }

  synchronized List<Detach> detached() {
    return List.copyOf(detached);
  }

  synchronized List<String> removed() {
    return List.copyOf(removed);
  }
}
