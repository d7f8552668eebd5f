package dev.meshwork.kvstore.etcd;

import io.etcd.jetcd.Client;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connection's signal that etcd is reachable again, and what makes it come early.
 *
 * <p>Why it exists: while etcd is down, the gRPC channel under jetcd waits longer and longer
 * between connection attempts (grpc-java: 1 s growing 1.6× per attempt up to 120 s), and neither
 * jetcd nor grpc-java lets a caller set that backoff. So a returning etcd would be noticed only at
 * the channel's next attempt, and the stores, whose own retries grow while the calls fail, later
 * still. Instead, while the channel is in {@code TRANSIENT_FAILURE} this resets its connect
 * backoff every {@link #RECONNECT_INTERVAL} ({@link ManagedChannel#resetConnectBackoff()}), so a
 * returning etcd is connected to within about a second; and each time the channel becomes
 * {@code READY} it runs what the stores asked to run then ({@link #onReadyAfter}), so they retry
 * at once instead of waiting out their backoff.
 *
 * <p>One per client built by {@link EtcdClients}; {@link #of(Client)} finds it. A client built
 * some other way has {@link #none()}: the stores then just retry on their backoff.
 */
public final class ChannelReadiness {
  private static final Logger LOG = LoggerFactory.getLogger(ChannelReadiness.class);

  /** How long the channel stays in TRANSIENT_FAILURE before the next connection attempt. */
  public static final Duration RECONNECT_INTERVAL = Duration.ofSeconds(1);

  private static final ChannelReadiness NONE = new ChannelReadiness("no channel", null);

  /** One timer for all channels: it only pokes them, the connecting happens in gRPC's threads. */
  private static final ScheduledExecutorService TIMER =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "etcd-reconnect");
            t.setDaemon(true);
            return t;
          });

  private final String name;
  private final ManagedChannel channel;
  private final Object lock = new Object();
  // Guarded by lock.
  private long readyCount;
  private ConnectivityState lastState = ConnectivityState.IDLE;
  private final List<Waiter> waiters = new ArrayList<>();
  private ScheduledFuture<?> resets;

  private ChannelReadiness(String name, ManagedChannel channel) {
    this.name = name;
    this.channel = channel;
  }

  /**
   * Starts following {@code channel}: counts its transitions to READY and shortens its
   * reconnect backoff while it fails. Stops by itself when the channel shuts down.
   */
  static ChannelReadiness follow(String name, ManagedChannel channel) {
    ChannelReadiness readiness = new ChannelReadiness(name, channel);
    readiness.watchState();
    return readiness;
  }

  /** The readiness of {@code client}'s channel; {@link #none()} for a client not built by {@link EtcdClients}. */
  public static ChannelReadiness of(Client client) {
    return client instanceof EtcdClients.FollowedClient followed ? followed.readiness() : NONE;
  }

  /** A readiness that never signals: for clients whose channel cannot be followed. */
  public static ChannelReadiness none() {
    return NONE;
  }

  /** How many times the channel has become READY (connected) since the client was built. */
  public long readyCount() {
    synchronized (lock) {
      return readyCount;
    }
  }

  /**
   * Runs {@code action} once, as soon as the channel has become READY more than {@code seen}
   * times: at once (in this thread) if it already has, otherwise in a gRPC thread when it
   * connects. Pass the {@link #readyCount()} read before the call that failed, so a reconnect
   * between that call and this registration is not missed. It also runs when the channel shuts
   * down (its client was closed, or replaced by a {@link ReloadingEtcdConnection}): the caller then
   * retries with its connection's current client rather than waiting for a channel that is gone.
   * The action should only hand work to the caller's own thread.
   *
   * @return a handle that cancels the action if it has not run
   */
  public Wakeup onReadyAfter(long seen, Runnable action) {
    Waiter waiter = new Waiter(seen, action);
    synchronized (lock) {
      if (channel == null || lastState == ConnectivityState.SHUTDOWN) {
        return waiter; // never signals: the caller's backoff decides
      }
      if (readyCount <= seen) {
        waiters.add(waiter);
        return waiter;
      }
    }
    run(waiter);
    return waiter;
  }

  /** Cancels an action registered with {@link #onReadyAfter}. */
  public interface Wakeup {
    void cancel();
  }

  private final class Waiter implements Wakeup {
    final long seen;
    final Runnable action;

    Waiter(long seen, Runnable action) {
      this.seen = seen;
      this.action = action;
    }

    @Override
    public void cancel() {
      synchronized (lock) {
        waiters.remove(this);
      }
    }
  }

  private void watchState() {
    ConnectivityState state = channel.getState(false);
    onState(state);
    if (state != ConnectivityState.SHUTDOWN) {
      // Runs watchState again (in a gRPC thread) at the next change.
      channel.notifyWhenStateChanged(state, this::watchState);
    }
  }

  private void onState(ConnectivityState state) {
    List<Waiter> due = new ArrayList<>();
    synchronized (lock) {
      // Called only on a change: READY seen again means the channel lost and regained its
      // connection in between.
      if (state == ConnectivityState.READY) {
        readyCount++;
        for (var it = waiters.iterator(); it.hasNext(); ) {
          Waiter w = it.next();
          if (readyCount > w.seen) {
            due.add(w);
            it.remove();
          }
        }
        if (lastState == ConnectivityState.TRANSIENT_FAILURE) {
          LOG.info("{}: connected again", name);
        }
      }
      if (state == ConnectivityState.TRANSIENT_FAILURE && resets == null) {
        long millis = RECONNECT_INTERVAL.toMillis();
        resets = TIMER.scheduleWithFixedDelay(this::resetWhileFailing, millis, millis, TimeUnit.MILLISECONDS);
      }
      if (state == ConnectivityState.SHUTDOWN) {
        due.addAll(waiters);
        waiters.clear();
        stopResets();
      }
      lastState = state;
    }
    due.forEach(this::run);
  }

  /** Makes a failing channel try again now instead of after its own, growing backoff. */
  private void resetWhileFailing() {
    synchronized (lock) {
      if (lastState != ConnectivityState.TRANSIENT_FAILURE) {
        stopResets(); // the next TRANSIENT_FAILURE schedules them again
        return;
      }
    }
    channel.resetConnectBackoff();
  }

  /** Holds lock. */
  private void stopResets() {
    if (resets != null) {
      resets.cancel(false);
      resets = null;
    }
  }

  private void run(Waiter waiter) {
    try {
      waiter.action.run();
    } catch (RuntimeException e) {
      LOG.warn("{}: an action waiting for the connection failed", name, e);
    }
  }

  @Override
  public String toString() {
    return "ChannelReadiness[" + name + "]";
  }
}
