package dev.meshwork.bench.kvstore;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.watch.WatchHandler;
import dev.meshwork.kvstore.watch.WatchStore;
import dev.meshwork.proto.v1.IPCacheEntry;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What is measured by the initial-list benchmarks: a new {@link WatchStore} lists and decodes the
 * {@link IPCacheFixture} entries into a map until it reports synced, then closes.
 */
final class IPCacheInitialList {
  private IPCacheInitialList() {}

  /** The prefix the fixture's entries are written under. */
  static String prefix() {
    return KeyLayout.state().prefix(Kind.IPCACHE, IPCacheFixture.CLUSTER);
  }

  /** Lists every entry into a map; fails unless synced within {@code timeout} with {@code expected} entries. */
  static Map<String, IPCacheEntry> run(EtcdConnection connection, int expected, Duration timeout)
      throws InterruptedException {
    Map<String, IPCacheEntry> view = new HashMap<>();
    CountDownLatch synced = new CountDownLatch(1);
    WatchHandler<IPCacheEntry> handler =
        new WatchHandler<>() {
          @Override
          public void onUpsert(String key, IPCacheEntry value) {
            view.put(key, value);
          }

          @Override
          public void onDelete(String key) {
            view.remove(key);
          }

          @Override
          public void onSynced() {
            synced.countDown();
          }
        };
    try (WatchStore<IPCacheEntry> store =
        WatchStore.builder(connection, prefix(), Codecs.IPCACHE, handler).build()) {
      store.start();
      if (!synced.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        throw new IllegalStateException("not synced within " + timeout.toSeconds() + " s");
      }
      if (view.size() != expected) {
        throw new IllegalStateException("listed " + view.size() + " of " + expected);
      }
      return view;
    }
  }
}
