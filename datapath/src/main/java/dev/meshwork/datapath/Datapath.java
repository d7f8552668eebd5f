package dev.meshwork.datapath;

/**
 * What the kernel (or a fake) must hold for one node: the ipcache (pod IPs and remote pod CIDRs
 * with their identity and tunnel endpoint), the load-balanced services, the local endpoints and
 * their policy. The agent computes the desired state and hands over only the differences.
 *
 * <p>Implementations: {@link FakeDatapath} (in memory, for unit tests and scale benchmarks) and
 * the Linux eBPF implementation in {@code dev.meshwork.datapath.bpf}. Both pass the same contract
 * tests. No Kubernetes, etcd or gRPC type appears here.
 */
public interface Datapath extends AutoCloseable {

  /**
   * Applies one batch of changes. Upserts replace the entry with the same key; deletes of absent
   * keys are no-ops. A batch either applies completely or throws and leaves every entry it did
   * not reach as it was, so that the caller can retry the same batch.
   */
  void apply(ChangeSet changes) throws DatapathException;

  /** What the datapath holds now, read back from it (for inspection, restart and tests). */
  DatapathSnapshot snapshot() throws DatapathException;

  /** Releases the handles of this process; pinned kernel state stays so traffic keeps flowing. */
  @Override
  void close();
}
