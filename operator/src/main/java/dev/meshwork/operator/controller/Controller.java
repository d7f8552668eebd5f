package dev.meshwork.operator.controller;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A controller in the strimzi / client-go style: informer events only turn into keys on a
 * de-duplicating {@link WorkQueue}; worker threads reconcile one key at a time from the informer
 * caches. Workers start only after the informers have synced, and {@link #initialSync()}
 * completes once every key present at that point has been reconciled successfully once, which is
 * when the kind's synced canary may be written.
 */
public final class Controller {

  private static final Logger log = LoggerFactory.getLogger(Controller.class);
  private static final Duration RETRY_BASE = Duration.ofMillis(200);
  private static final Duration RETRY_MAX = Duration.ofSeconds(60);
  /**
   * Failed attempts after which a key counts as seen for the initial sync anyway. Until then a
   * failed reconcile (an API or etcd hiccup) does not count: the kind's synced canary tells
   * readers that keys missing now are gone, so it must not be written while one is missing only
   * because its write failed.
   */
  static final int INITIAL_SYNC_ATTEMPTS = 5;

  private final String name;
  private final Reconciler reconciler;
  private final int workers;
  private final Supplier<Collection<String>> initialKeys;
  private final WorkQueue queue;
  private final Map<String, Integer> attempts = new ConcurrentHashMap<>();
  private final Set<String> pendingInitial = ConcurrentHashMap.newKeySet();
  private final CompletableFuture<Void> initialSync = new CompletableFuture<>();
  private final List<Thread> threads = new ArrayList<>();
  private final Counter reconciled;
  private final Counter failed;
  private final Timer lag;
  private volatile boolean running;

  private Controller(Builder builder) {
    this.name = builder.name;
    this.reconciler = builder.reconciler;
    this.workers = builder.workers;
    this.initialKeys = builder.initialKeys;
    this.queue = new WorkQueue(name);
    MeterRegistry registry = builder.registry;
    this.reconciled =
        Counter.builder("meshwork.operator.reconciles")
            .description("Keys reconciled successfully")
            .tag("controller", name)
            .register(registry);
    this.failed =
        Counter.builder("meshwork.operator.reconcile.errors")
            .description("Reconciles that failed and were retried")
            .tag("controller", name)
            .register(registry);
    this.lag =
        Timer.builder("meshwork.operator.sync.lag")
            .description("Time from the Kubernetes event to the end of its reconcile")
            .tag("controller", name)
            .publishPercentiles(0.5, 0.99)
            .publishPercentileHistogram()
            .register(registry);
    Gauge.builder("meshwork.operator.queue.depth", queue, WorkQueue::depth)
        .tag("controller", name)
        .register(registry);
    for (Watch<?> watch : builder.watches) {
      watch.attach(queue);
    }
  }

  public static Builder builder(String name, Reconciler reconciler, MeterRegistry registry) {
    return new Builder(name, reconciler, registry);
  }

  public String name() {
    return name;
  }

  /** Starts the workers. Call only after every watched informer has synced. */
  public synchronized void start() {
    running = true;
    Collection<String> keys = initialKeys.get();
    pendingInitial.addAll(keys);
    keys.forEach(queue::add);
    if (pendingInitial.isEmpty()) {
      initialSync.complete(null);
    }
    for (int i = 0; i < workers; i++) {
      Thread thread =
          Thread.ofPlatform().daemon().name("meshwork-" + name + "-" + i).start(this::work);
      threads.add(thread);
    }
    log.info("controller {} started with {} keys and {} workers", name, keys.size(), workers);
  }

  /**
   * Completes when every key that existed at start has been reconciled successfully once (or has
   * failed {@value #INITIAL_SYNC_ATTEMPTS} times).
   */
  public CompletableFuture<Void> initialSync() {
    return initialSync;
  }

  /** Queues a key from outside the informers, e.g. after an allocation was freed. */
  public void enqueue(String key) {
    queue.add(key);
  }

  public synchronized void stop() {
    running = false;
    queue.shutDown();
    for (Thread thread : threads) {
      thread.interrupt();
    }
    for (Thread thread : threads) {
      try {
        thread.join(TimeUnit.SECONDS.toMillis(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    threads.clear();
  }

  private void work() {
    while (running) {
      WorkQueue.Taken taken;
      try {
        var next = queue.take();
        if (next.isEmpty()) {
          return;
        }
        taken = next.get();
      } catch (InterruptedException e) {
        return;
      }
      String key = taken.key();
      MDC.put("controller", name);
      MDC.put("key", key);
      boolean settled = false; // whether this attempt counts for the initial sync
      try {
        ReconcileResult result = reconciler.reconcile(key);
        settled = true;
        attempts.remove(key);
        reconciled.increment();
        lag.record(System.nanoTime() - taken.queuedAtNanos(), TimeUnit.NANOSECONDS);
        if (result instanceof ReconcileResult.RequeueAfter(Duration delay)) {
          queue.addAfter(key, delay);
        }
      } catch (Exception e) {
        if (!running) {
          return;
        }
        failed.increment();
        int attempt = attempts.merge(key, 1, Integer::sum);
        Duration delay = backoff(attempt);
        log.warn(
            "{} {}: reconcile failed (attempt {}), retrying in {} ms: {}",
            name,
            key,
            attempt,
            delay.toMillis(),
            e.toString(),
            e);
        queue.addAfter(key, delay);
        if (attempt >= INITIAL_SYNC_ATTEMPTS && pendingInitial.contains(key)) {
          // Retries go on, but one broken object must not hold back the synced canary forever.
          settled = true;
          log.warn("{} {}: counted as synced for the initial sync after {} failed attempts", name, key, attempt);
        }
      } finally {
        queue.done(key);
        MDC.remove("controller");
        MDC.remove("key");
        if (settled && pendingInitial.remove(key) && pendingInitial.isEmpty()) {
          log.info("controller {} completed its initial sync", name);
          initialSync.complete(null);
        }
      }
    }
  }

  /** Exponential backoff with full jitter over the upper half, capped. */
  static Duration backoff(int attempt) {
    long max = RETRY_MAX.toMillis();
    long base = RETRY_BASE.toMillis() << Math.min(attempt - 1, 20);
    long capped = Math.min(base, max);
    long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    return Duration.ofMillis(jittered);
  }

  /** An informer whose events map to keys of this controller. */
  private record Watch<T extends HasMetadata>(
      SharedIndexInformer<T> informer, Function<T, Collection<String>> keys) {

    void attach(WorkQueue queue) {
      informer.addEventHandler(
          new ResourceEventHandler<T>() {
            @Override
            public void onAdd(T obj) {
              keys.apply(obj).forEach(queue::add);
            }

            @Override
            public void onUpdate(T oldObj, T newObj) {
              // Both: an update can move an object from one key to another (a slice relabelled).
              Set<String> all = new HashSet<>(keys.apply(oldObj));
              all.addAll(keys.apply(newObj));
              all.forEach(queue::add);
            }

            @Override
            public void onDelete(T obj, boolean deletedFinalStateUnknown) {
              keys.apply(obj).forEach(queue::add);
            }
          });
    }
  }

  public static final class Builder {
    private final String name;
    private final Reconciler reconciler;
    private final MeterRegistry registry;
    private final List<Watch<?>> watches = new ArrayList<>();
    private Supplier<Collection<String>> initialKeys = List::of;
    private int workers = 1;

    private Builder(String name, Reconciler reconciler, MeterRegistry registry) {
      this.name = Objects.requireNonNull(name);
      this.reconciler = Objects.requireNonNull(reconciler);
      this.registry = Objects.requireNonNull(registry);
    }

    /** Events of this informer queue the keys the function returns. */
    public <T extends HasMetadata> Builder watch(
        SharedIndexInformer<T> informer, Function<T, Collection<String>> keys) {
      watches.add(new Watch<>(informer, keys));
      return this;
    }

    /** The keys that make up the initial sync, read from the caches when the workers start. */
    public Builder initialKeys(Supplier<Collection<String>> keys) {
      this.initialKeys = keys;
      return this;
    }

    public Builder workers(int workers) {
      this.workers = workers;
      return this;
    }

    public Controller build() {
      return new Controller(this);
    }
  }
}
