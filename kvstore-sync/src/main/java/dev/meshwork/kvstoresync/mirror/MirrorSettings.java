package dev.meshwork.kvstoresync.mirror;

import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;

/**
 * How kvstore-sync mirrors its remotes.
 *
 * @param clusterName this cluster's name: a config file with this name is not a remote
 * @param clusterId this cluster's id: a remote claiming it is refused
 * @param drainGrace how long a remote whose config file was removed stays in the mirror
 * @param scanInterval how often the config directory and the certificates are checked
 * @param retry delays between attempts to read and validate a remote's cluster-config
 * @param canaryPoll how often a remote is relisted while its synced canary is missing
 * @param writesPerSecond maximum writes per second per remote and kind into the local etcd
 * @param registry where the metrics go
 * @param clock for failure timestamps and drain deadlines
 */
public record MirrorSettings(
    ClusterName clusterName,
    ClusterId clusterId,
    Duration drainGrace,
    Duration scanInterval,
    Backoff retry,
    Duration canaryPoll,
    double writesPerSecond,
    MeterRegistry registry,
    InstantSource clock) {

  public MirrorSettings {
    Objects.requireNonNull(clusterName, "clusterName");
    Objects.requireNonNull(clusterId, "clusterId");
    Objects.requireNonNull(drainGrace, "drainGrace");
    Objects.requireNonNull(scanInterval, "scanInterval");
    Objects.requireNonNull(retry, "retry");
    Objects.requireNonNull(canaryPoll, "canaryPoll");
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(clock, "clock");
    if (drainGrace.isNegative()) {
      throw new IllegalArgumentException("drain grace must not be negative, got " + drainGrace);
    }
    if (!(writesPerSecond > 0)) {
      throw new IllegalArgumentException("writes per second must be positive, got " + writesPerSecond);
    }
  }

  /** Production defaults: scan every second, 10 s canary poll, 10,000 writes/s per kind. */
  public static MirrorSettings defaults(ClusterName name, ClusterId id, Duration drainGrace, MeterRegistry registry) {
    return new MirrorSettings(name, id, drainGrace, Duration.ofSeconds(1), Backoff.standard(), Duration.ofSeconds(10),
        10_000, registry, InstantSource.system());
  }
}
