package dev.meshwork.operator.state;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.OperatorFixture;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The blog's etcd has no persistent storage: after it loses its data, the operator rewrites all. */
class EtcdDataLossIT {

  private static final Duration WAIT = Duration.ofSeconds(30);

  @RegisterExtension final OperatorFixture cluster = OperatorFixture.perTest();

  @Test
  void rewritesEveryKindAfterEtcdIsWipedWithoutARestart() {
    cluster.kubernetes().nodes().resource(new NodeBuilder().withNewMetadata().withName("node-1").endMetadata()
        .withNewStatus().addNewAddress().withType("InternalIP").withAddress("198.18.1.1").endAddress().endStatus()
        .build()).create();
    cluster.kubernetes().services().inNamespace("testing").resource(new ServiceBuilder()
        .withNewMetadata().withName("backend-svc").withNamespace("testing")
        .addToAnnotations("io.cilium/global-service", "true").endMetadata()
        .withNewSpec().withClusterIP("10.100.3.165").addNewPort().withPort(80).endPort().endSpec()
        .build()).create();
    cluster.kubernetes().pods().inNamespace("testing").resource(new PodBuilder()
        .withNewMetadata().withName("backend-1").withNamespace("testing").addToLabels("app", "backend").endMetadata()
        .withNewSpec().withNodeName("node-1").endSpec()
        .withNewStatus().withPhase("Running").withPodIP("10.2.0.10").withHostIP("198.18.1.1").endStatus()
        .build()).create();
    cluster.startOperator(cluster.config());
    await().atMost(WAIT).until(this::everythingWritten);
    String cidr = cluster.<Node>state(Kind.NODES, "node-1").orElseThrow().getPodCidrs(0);
    int identity = cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.0.10").orElseThrow().getIdentity();

    long before = cluster.etcd().clusterId();
    cluster.etcd().wipe();
    // An empty etcd (new cluster id); the operator may already be rewriting it.
    assertThat(cluster.etcd().clusterId()).isNotEqualTo(before);

    await().atMost(WAIT).until(this::everythingWritten);
    // Rewritten from what the operator knows, not re-allocated.
    assertThat(cluster.<Node>state(Kind.NODES, "node-1").orElseThrow().getPodCidrsList()).containsExactly(cidr);
    assertThat(cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.0.10").orElseThrow().getIdentity()).isEqualTo(identity);
    assertThat(cluster.state(Kind.IDENTITIES, Integer.toString(identity))).isPresent();
  }

  private boolean everythingWritten() {
    KeyLayout layout = KeyLayout.state();
    String c = OperatorFixture.CLUSTER;
    boolean canaries = true;
    for (Kind kind : Kind.values()) {
      canaries &= cluster.get(layout.syncedKey(c, kind)).isPresent();
    }
    return canaries
        && cluster.get(KeyLayout.clusterConfigKey(c)).isPresent()
        && cluster.get(KeyLayout.heartbeatKey(c)).isPresent()
        && cluster.state(Kind.NODES, "node-1").isPresent()
        && cluster.state(Kind.SERVICES, "testing/backend-svc").isPresent()
        && cluster.state(Kind.IPCACHE, "10.2.0.10").isPresent()
        && cluster.states(Kind.IDENTITIES).size() == 1;
  }
}
