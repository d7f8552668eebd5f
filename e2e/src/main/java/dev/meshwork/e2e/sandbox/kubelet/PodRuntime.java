package dev.meshwork.e2e.sandbox.kubelet;

import java.io.IOException;
import java.util.Set;

/**
 * The node side of a pod: what the shim's pod controller asks of "the container runtime". The
 * real one ({@link NetnsPodRuntime}) creates a network namespace, runs the CNI plugin and starts
 * busybox httpd in it; unit tests use a fake.
 */
interface PodRuntime {

  /** The pod's address and the CNI result it came with (kept for DEL's {@code prevResult}). */
  record Attachment(String ip, String cniResult) {}

  /** Creates the sandbox's network namespace if needed and attaches it to the pod network (CNI ADD). */
  Attachment attach(Sandbox sandbox) throws PodRuntimeException;

  /** Detaches the sandbox from the pod network (CNI DEL, with {@code prevResult} if not null). Idempotent. */
  void detach(Sandbox sandbox, String prevResult) throws PodRuntimeException;

  /** Writes {@code /etc/netns/<netns>/hosts} and {@code resolv.conf}, seen by {@code ip netns exec}. */
  void writeNameFiles(Sandbox sandbox, String hosts, String resolvConf) throws IOException;

  /**
   * Makes the sandbox's server processes exactly one per port, each answering HTTP requests with
   * {@code answer}: starts those missing (or exited), stops those for other ports.
   */
  void serve(Sandbox sandbox, String answer, Set<Integer> ports) throws PodRuntimeException;

  /** Whether an HTTP request from inside the sandbox to {@code ip:port} is answered. */
  boolean accepts(Sandbox sandbox, String ip, int port);

  /** Stops the processes, deletes the network namespace and {@code /etc/netns/<netns>}. Idempotent. */
  void remove(Sandbox sandbox);
}
