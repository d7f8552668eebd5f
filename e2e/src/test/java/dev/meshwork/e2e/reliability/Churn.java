package dev.meshwork.e2e.reliability;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A remote cluster's operator replacing backends continuously: every {@code periodMillis} one
 * pod goes and a new one comes (on the next node), and the global service is republished.
 */
final class Churn implements AutoCloseable {
  private final RemoteCluster cluster;
  private final int nodes;
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicInteger steps = new AtomicInteger();
  private final Thread thread;

  Churn(RemoteCluster cluster, int nodes, long periodMillis) {
    this.cluster = cluster;
    this.nodes = nodes;
    this.thread = Thread.ofPlatform().daemon().name("churn " + cluster.name).start(() -> {
      while (running.get()) {
        step();
        try {
          Thread.sleep(periodMillis);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  private void step() {
    int i = steps.incrementAndGet();
    int node = 1 + i % nodes;
    String oldest = cluster.podIps().first();
    cluster.removeBackend(oldest);
    cluster.addBackend(cluster.podIp(node, 100 + i % 150), node);
    cluster.publishService();
  }

  int steps() {
    return steps.get();
  }

  /** Stops after the current step; the cluster's state is final from then on. */
  @Override
  public void close() throws InterruptedException {
    running.set(false);
    thread.join();
  }
}
