package dev.meshwork.operator.controller;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A de-duplicating queue of object keys, in the manner of client-go's work queue: a key is
 * queued at most once, a key is handed to at most one worker at a time, and a key added while it
 * is being processed is queued again when the worker is done with it. Delayed adds (retries,
 * requeue-after) go through a timer; an immediate add of the same key pre-empts a pending
 * delayed one.
 */
public final class WorkQueue {

  private final Object lock = new Object();
  private final LinkedHashSet<String> queue = new LinkedHashSet<>();
  private final Set<String> processing = new HashSet<>();
  private final Set<String> dirty = new HashSet<>();
  private final Map<String, ScheduledFuture<?>> delayed = new HashMap<>();
  /** When each queued key was first queued, for the event-to-write lag metric. */
  private final Map<String, Long> queuedAtNanos = new HashMap<>();
  private final ScheduledExecutorService timer;
  private boolean shutDown;

  public WorkQueue(String name) {
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshwork-queue-" + name).factory());
  }

  /** Queues the key now, replacing any delayed add of it. */
  public void add(String key) {
    synchronized (lock) {
      if (shutDown) {
        return;
      }
      ScheduledFuture<?> pending = delayed.remove(key);
      if (pending != null) {
        pending.cancel(false);
      }
      queuedAtNanos.putIfAbsent(key, System.nanoTime());
      if (processing.contains(key)) {
        dirty.add(key);
        return;
      }
      if (queue.add(key)) {
        lock.notifyAll();
      }
    }
  }

  /** Queues the key after a delay, unless it is queued (or queued again) before then. */
  public void addAfter(String key, Duration delay) {
    synchronized (lock) {
      if (shutDown || queue.contains(key) || dirty.contains(key) || delayed.containsKey(key)) {
        return;
      }
      delayed.put(
          key,
          timer.schedule(
              () -> {
                synchronized (lock) {
                  delayed.remove(key);
                }
                add(key);
              },
              delay.toNanos(),
              TimeUnit.NANOSECONDS));
    }
  }

  /**
   * Takes the next key, waiting for one; empty once the queue is shut down. The caller must
   * call {@link #done} with the key afterwards.
   */
  public Optional<Taken> take() throws InterruptedException {
    synchronized (lock) {
      while (queue.isEmpty() && !shutDown) {
        lock.wait();
      }
      if (shutDown) {
        return Optional.empty();
      }
      var it = queue.iterator();
      String key = it.next();
      it.remove();
      processing.add(key);
      Long queuedAt = queuedAtNanos.remove(key);
      return Optional.of(new Taken(key, queuedAt == null ? System.nanoTime() : queuedAt));
    }
  }

  /** Marks the key as no longer being processed; queues it again if it was added meanwhile. */
  public void done(String key) {
    synchronized (lock) {
      processing.remove(key);
      if (dirty.remove(key) && !shutDown) {
        queue.add(key);
        lock.notifyAll();
      }
    }
  }

  /** Keys waiting to be taken (not counting delayed ones). */
  public int depth() {
    synchronized (lock) {
      return queue.size();
    }
  }

  public void shutDown() {
    synchronized (lock) {
      shutDown = true;
      delayed.values().forEach(f -> f.cancel(false));
      delayed.clear();
      lock.notifyAll();
    }
    timer.shutdownNow();
  }

  /** A key handed to a worker, with the time it was first queued. */
  public record Taken(String key, long queuedAtNanos) {}
}
