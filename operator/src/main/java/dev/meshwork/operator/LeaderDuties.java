package dev.meshwork.operator;

import dev.meshwork.common.lifecycle.Lifecycle;
import dev.meshwork.kvstore.heartbeat.HeartbeatWriter;
import dev.meshwork.operator.cluster.ClusterConfigPublisher;
import dev.meshwork.operator.state.SyncStoreClusterStateWriter;

/**
 * What only the leader does, in start order: write state to etcd (the stores), publish the
 * cluster config and the heartbeat, and run the controllers. Starts at most once: a replica that
 * loses the Lease stops and exits, and comes back as a standby.
 */
public final class LeaderDuties {

  private final Lifecycle lifecycle = new Lifecycle();
  private final ActiveOperator active;
  private final SyncStoreClusterStateWriter writer;

  public LeaderDuties(
      SyncStoreClusterStateWriter writer,
      ClusterConfigPublisher clusterConfig,
      HeartbeatWriter heartbeat,
      ActiveOperator active) {
    this.writer = writer;
    this.active = active;
    lifecycle.register("kvstore-writer", writer::start, writer::close);
    lifecycle.register("cluster-config", clusterConfig::start, clusterConfig::close);
    lifecycle.register("heartbeat", heartbeat::start, heartbeat::close);
    lifecycle.register("controllers", active::start, active::stop);
  }

  public void start() {
    lifecycle.start();
  }

  public void stop() {
    lifecycle.stop();
  }

  /** Whether the duties are running (this replica leads and has not stopped). */
  public boolean running() {
    return lifecycle.state() == Lifecycle.State.RUNNING;
  }

  public ActiveOperator active() {
    return active;
  }

  public SyncStoreClusterStateWriter writer() {
    return writer;
  }
}
