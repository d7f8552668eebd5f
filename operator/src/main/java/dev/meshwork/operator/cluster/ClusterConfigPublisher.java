package dev.meshwork.operator.cluster;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.proto.v1.ClusterConfig;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps {@code meshwork/v1/cluster-config/<cluster>} in etcd: written at start and checked
 * periodically, so that an etcd that lost its data gets it back without a restart. It is not on
 * a lease: remote readers must be able to identify the cluster even while no operator runs.
 */
public final class ClusterConfigPublisher implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ClusterConfigPublisher.class);

  /** What this operator's writers support; readers ignore capabilities they do not know. */
  public static final List<String> CAPABILITIES = List.of("synced-canaries", "service-affinity");

  private final EtcdConnection etcd;
  private final ByteSequence key;
  private final byte[] value;
  private final Duration interval;
  private final ScheduledExecutorService executor =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("meshwork-cluster-config").factory());

  public ClusterConfigPublisher(EtcdConnection etcd, LocalCluster cluster, Duration interval) {
    this.etcd = etcd;
    this.key = ByteSequence.from(KeyLayout.clusterConfigKey(cluster.name()), StandardCharsets.UTF_8);
    this.value = Codecs.CLUSTER_CONFIG.encode(config(cluster));
    this.interval = interval;
  }

  public static ClusterConfig config(LocalCluster cluster) {
    return ClusterConfig.newBuilder()
        .setName(cluster.name())
        .setId(cluster.id())
        .addAllCapabilities(CAPABILITIES)
        .build();
  }

  public void start() {
    executor.scheduleWithFixedDelay(this::ensure, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void ensure() {
    try {
      var kv = etcd.client().getKVClient();
      var current = kv.get(key).get(10, TimeUnit.SECONDS);
      boolean same =
          current.getKvs().size() == 1
              && Arrays.equals(current.getKvs().getFirst().getValue().getBytes(), value);
      if (!same) {
        kv.put(key, ByteSequence.from(value)).get(10, TimeUnit.SECONDS);
        log.info("wrote {}", key.toString(StandardCharsets.UTF_8));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      log.warn("could not write {}, retrying in {}: {}", key.toString(StandardCharsets.UTF_8), interval, e.toString());
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
