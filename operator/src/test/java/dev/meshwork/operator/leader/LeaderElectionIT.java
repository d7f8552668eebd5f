package dev.meshwork.operator.leader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorConfig;
import dev.meshwork.operator.OperatorFixture;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Two replicas against one API server and one etcd: one writes, the other stands by. */
class LeaderElectionIT {

  private static final Duration WAIT = Duration.ofSeconds(20);

  @RegisterExtension final OperatorFixture cluster = OperatorFixture.perTest();

  private OperatorConfig replica(String name) {
    return cluster.config(
        "--leader-election=true",
        "--pod-name=" + name,
        "--leader-election-lease-duration=3s",
        "--leader-election-renew-deadline=2s",
        "--leader-election-retry-period=250ms");
  }

  @Test
  void exactlyOneReplicaWritesAndTheOtherTakesOverWhenTheLeaderLosesTheApiServer() {
    createNode("node-a");
    KubernetesClient clientOfA = cluster.newApiClient();
    OperatorComponent a = cluster.newOperator(replica("operator-a"), clientOfA);
    a.lifecycle().start();
    await().atMost(WAIT).until(() -> a.duties().running());
    OperatorComponent b = cluster.newOperator(replica("operator-b"), cluster.newApiClient());
    b.lifecycle().start();

    await().atMost(WAIT).until(() -> cluster.state(Kind.NODES, "node-a").isPresent());
    assertThat(holder()).isEqualTo("operator-a");
    assertThat(a.leaderElection().isLeader()).isTrue();
    assertThat(b.leaderElection().isLeader()).isFalse();
    assertThat(b.duties().running()).isFalse();
    assertThat(writes(b)).isZero();
    assertThat(writes(a)).isPositive();

    // A is cut off from the API server: it can neither renew nor release the Lease, and must
    // stop writing on its own before B may take over.
    clientOfA.close();
    long killedAt = System.nanoTime();
    await().atMost(WAIT).until(() -> !a.duties().running());
    assertThat(holder()).isEqualTo("operator-a");

    await().atMost(WAIT).until(() -> b.duties().running());
    Duration takeover = Duration.ofNanos(System.nanoTime() - killedAt);
    assertThat(holder()).isEqualTo("operator-b");
    createNode("node-b");
    await().atMost(WAIT).until(() -> cluster.state(Kind.NODES, "node-b").isPresent());
    assertThat(writes(b)).isPositive();
    // Lease duration plus the retry period and some scheduling slack on a busy 2-core machine.
    assertThat(takeover).isLessThan(Duration.ofSeconds(10));
  }

  private String holder() {
    Lease lease = cluster.kubernetes().leases().inNamespace("kube-system").withName("meshwork-operator").get();
    return lease == null ? null : lease.getSpec().getHolderIdentity();
  }

  private static double writes(OperatorComponent operator) {
    return operator.metrics().registry().find("meshwork.kvstore.sync.writes").counters().stream()
        .mapToDouble(c -> c.count())
        .sum();
  }

  private void createNode(String name) {
    cluster.kubernetes().nodes().resource(new NodeBuilder().withNewMetadata().withName(name).endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.1.9").endAddress().endStatus()
        .build()).create();
  }
}
