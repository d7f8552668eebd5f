package dev.meshwork.kvstoresync.mirror;

import dev.meshwork.kvstore.key.Kind;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What kvstore-sync knows about one remote cluster; the fields follow {@code RemoteClusterStatus}
 * of {@code proto/agent.proto}.
 *
 * @param name the cluster name (its config file name)
 * @param id the cluster id read from its cluster-config, 0 before it was accepted
 * @param connected every watch on the remote etcd is established right now
 * @param ready accepted, and every kind's mirror canary is written
 * @param entries mirrored entries per kind
 * @param skipped remote values skipped per kind (undecodable, or keys/values of another cluster)
 * @param reconnections times a watch on the remote was re-established after its first list
 * @param lastFailure the last failure, empty if none
 * @param lastFailureMillis when it happened, ms since epoch; 0 if none
 * @param status a one-line human status, e.g. "refused: cluster id 2 is also used by cluster-b"
 * @param syncedKinds kinds whose canary is written in the mirror
 * @param mirrorLagMillis how long the oldest change not yet in the local etcd has waited; 0 if none
 */
public record RemoteStatus(
    String name,
    int id,
    boolean connected,
    boolean ready,
    Map<Kind, Integer> entries,
    Map<Kind, Long> skipped,
    long reconnections,
    String lastFailure,
    long lastFailureMillis,
    String status,
    List<Kind> syncedKinds,
    long mirrorLagMillis) {

  public RemoteStatus {
    Objects.requireNonNull(name, "name");
    entries = Map.copyOf(entries);
    skipped = Map.copyOf(skipped);
    Objects.requireNonNull(lastFailure, "lastFailure");
    Objects.requireNonNull(status, "status");
    syncedKinds = List.copyOf(syncedKinds);
  }

  /** Values skipped over all kinds. */
  public long skippedTotal() {
    return skipped.values().stream().mapToLong(Long::longValue).sum();
  }
}
