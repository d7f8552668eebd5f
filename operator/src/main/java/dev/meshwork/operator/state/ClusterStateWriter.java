package dev.meshwork.operator.state;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.key.Kind;

/**
 * The operator's view of its cluster's etcd: the desired value of each state key. Writers
 * coalesce, retry and rewrite on their own; callers only say what should be there.
 *
 * <p>{@code name} is the key below {@code meshwork/v1/state/<kind>/<cluster>/}, e.g. {@code
 * testing/backend-svc} for a service or {@code 10.1.0.7} for an ipcache entry.
 */
public interface ClusterStateWriter {

  /** Makes {@code value} the desired value of the key. */
  void put(Kind kind, String name, Message value);

  /** Makes the key undesired: it is deleted from etcd. */
  void delete(Kind kind, String name);

  /** Every object of the kind has been put once: the kind's synced canary may be written. */
  void initialSyncDone(Kind kind);
}
