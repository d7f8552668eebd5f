package dev.meshwork.kvstore.watch;

import java.util.Optional;

/**
 * Decides whether a decoded key/value pair is acceptable; the agent uses it to reject keys of a
 * remote etcd that do not belong to the cluster it is connected to. A rejected pair is counted,
 * logged with its key and the reason, and treated like an undecodable value: skipped.
 *
 * @param <T> the decoded value type
 */
@FunctionalInterface
public interface KeyValidator<T> {

  /** Empty to accept, or the reason for rejecting, e.g. "cluster field is 'b', key says 'a'". */
  Optional<String> rejection(String key, T value);

  /** Accepts everything. */
  static <T> KeyValidator<T> acceptAll() {
    return (key, value) -> Optional.empty();
  }
}
