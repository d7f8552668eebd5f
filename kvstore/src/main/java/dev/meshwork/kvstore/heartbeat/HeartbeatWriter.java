package dev.meshwork.kvstore.heartbeat;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.settings.PositiveDuration;
import dev.meshwork.proto.v1.Heartbeat;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rewrites {@code meshwork/v1/heartbeat/<cluster>} every {@code interval} with the current time,
 * on a lease of three intervals: if the writer stops, the heartbeat first grows old (readers call
 * the cluster unhealthy) and then disappears.
 *
 * <p>Each write grants a fresh lease and revokes the previous one afterwards, so no keep-alive
 * stream is needed and an etcd that lost its data gets the heartbeat back on the next tick.
 */
public final class HeartbeatWriter implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HeartbeatWriter.class);

  private final EtcdConnection connection;
  private final String key;
  private final String writer;
  private final Duration interval;
  private final InstantSource clock;
  private final ScheduledExecutorService executor;
  private final AtomicLong beats = new AtomicLong();
  private long previousLease;

  /**
   * A writer for {@code cluster}'s heartbeat; {@code writer} names this process in the value.
   *
   * @throws IllegalArgumentException if the cluster name is invalid or the interval not positive
   */
  public HeartbeatWriter(
      EtcdConnection connection, String cluster, String writer, Duration interval, InstantSource clock) {
    this.connection = Objects.requireNonNull(connection, "connection");
    this.key = KeyLayout.heartbeatKey(cluster);
    this.writer = Objects.requireNonNull(writer, "writer");
    this.interval = PositiveDuration.require(interval, "heartbeat interval");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "heartbeat " + cluster);
      t.setDaemon(true);
      return t;
    });
  }

  /** Writes the first heartbeat now, then every interval. */
  public void start() {
    executor.scheduleWithFixedDelay(this::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Heartbeats written since start. */
  public long beats() {
    return beats.get();
  }

  /** The key written. */
  public String key() {
    return key;
  }

  private void beat() {
    try {
      Client client = connection.client();
      long ttl = Math.max(5, interval.multipliedBy(3).toSeconds());
      long lease = client.getLeaseClient().grant(ttl).get(10, TimeUnit.SECONDS).getID();
      Heartbeat value =
          Heartbeat.newBuilder().setTimestampMillis(clock.millis()).setWriter(writer).build();
      client.getKVClient()
          .put(ByteSequence.from(key, StandardCharsets.UTF_8),
              ByteSequence.from(Codecs.HEARTBEAT.encode(value)),
              PutOption.builder().withLeaseId(lease).build())
          .get(10, TimeUnit.SECONDS);
      beats.incrementAndGet();
      if (previousLease != 0) {
        client.getLeaseClient().revoke(previousLease).exceptionally(e -> null);
      }
      previousLease = lease;
    } catch (Exception e) {
      LOG.warn("writing heartbeat {} failed, retrying in {}: {}", key, interval, e.toString());
    }
  }

  /** Stops writing; the heartbeat then ages and expires with its lease. */
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
