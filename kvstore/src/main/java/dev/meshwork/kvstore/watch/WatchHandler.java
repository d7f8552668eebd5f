package dev.meshwork.kvstore.watch;

/**
 * Receives the changes a {@link WatchStore} sees. All calls for one store come from one thread,
 * in order; a handler must not block for long.
 *
 * @param <T> the decoded value type
 */
public interface WatchHandler<T> {

  /** {@code key} was created or changed to {@code value}. Not called again for an unchanged key after a relist. */
  void onUpsert(String key, T value);

  /** {@code key} was deleted, or was not in a complete relist (a synthetic delete). */
  void onDelete(String key);

  /** The first complete list has been delivered (and, if gated, the synced canary exists). Called once. */
  default void onSynced() {}
}
