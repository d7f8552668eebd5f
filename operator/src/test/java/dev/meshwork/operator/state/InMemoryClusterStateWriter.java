package dev.meshwork.operator.state;

import com.google.protobuf.Message;
import dev.meshwork.kvstore.key.Kind;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The desired state as a map, for unit tests. */
public final class InMemoryClusterStateWriter implements ClusterStateWriter {

  private final Map<Kind, Map<String, Message>> state = new ConcurrentHashMap<>();
  private final Set<Kind> synced = EnumSet.noneOf(Kind.class);
  private final Map<Kind, AtomicInteger> puts = new ConcurrentHashMap<>();

  @Override
  public void put(Kind kind, String name, Message value) {
    state.computeIfAbsent(kind, k -> new ConcurrentHashMap<>()).put(name, value);
    puts.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
  }

  /** How many times a value of the kind was put, unchanged values included. */
  public int puts(Kind kind) {
    AtomicInteger count = puts.get(kind);
    return count == null ? 0 : count.get();
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
