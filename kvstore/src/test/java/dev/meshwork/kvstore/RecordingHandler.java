package dev.meshwork.kvstore;

import dev.meshwork.kvstore.watch.WatchHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/** Records what a WatchStore reports, as readable lines, and the resulting view. */
public final class RecordingHandler<T> implements WatchHandler<T> {
  private final Function<T, String> describe;
  private final List<String> events = new ArrayList<>();
  private final Map<String, T> view = new ConcurrentHashMap<>();

  public RecordingHandler(Function<T, String> describe) {
    this.describe = describe;
  }

  @Override
  public synchronized void onUpsert(String key, T value) {
    view.put(key, value);
    events.add("upsert " + key + " " + describe.apply(value));
  }

  @Override
  public synchronized void onDelete(String key) {
    view.remove(key);
    events.add("delete " + key);
  }

  @Override
  public synchronized void onSynced() {
    events.add("synced");
  }

  public synchronized List<String> events() {
    return List.copyOf(events);
  }

  public synchronized void clear() {
    events.clear();
  }

  /** What the handler believes is in etcd now. */
  public Map<String, T> view() {
    return Map.copyOf(view);
  }
}
