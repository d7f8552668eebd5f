package dev.meshwork.operator.state;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.key.Kind;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The desired state as a map, for unit tests. */
public final class InMemoryClusterStateWriter implements ClusterStateWriter {

  private final Map<Kind, Map<String, Message>> state = new ConcurrentHashMap<>();
  private final Set<Kind> synced = EnumSet.noneOf(Kind.class);

  @Override
  public void put(Kind kind, String name, Message value) {
    state.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).put(name, value);
  }

  @Override
  public void delete(Kind kind, String name) {
    state.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).remove(name);
  }

  @Override
  public synchronized void initialSyncDone(Kind kind) {
    synced.add(kind);
  }

  public Map<String, Message> of(Kind kind) {
    return Map.copyOf(state.getOrDefault(kind, Map.of()));
  }

  public synchronized boolean synced(Kind kind) {
    return synced.contains(kind);
  }
}
