package dev.meshwork.operator.ipam;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorFixture;
import dev.meshwork.proto.v1.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class NodeIpamIT {

  @RegisterExtension final OperatorFixture cluster = OperatorFixture.perTest();

  @Test
  void allocatesAPodCidrFromThePoolAndWritesTheNode() {
    cluster.startOperator(cluster.config());

    createNode("node-a", "198.18.1.1");

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      Optional<Node> node = cluster.state(Kind.NODES, "node-a");
      assertThat(node).isPresent();
      assertThat(node.get().getPodCidrsList()).containsExactly("10.2.0.0/24");
      assertThat(node.get().getClusterId()).isEqualTo(OperatorFixture.CLUSTER_ID);
      assertThat(node.get().getAddressesList()).anySatisfy(a -> {
        assertThat(a.getType()).isEqualTo("InternalIP");
        assertThat(a.getAddress()).isEqualTo("198.18.1.1");
      });
    });
    MeshNode meshNode = cluster.kubernetes().resources(MeshNode.class).withName("node-a").get();
    assertThat(meshNode.getSpec().getPodCIDRs()).containsExactly("10.2.0.0/24");
  }

  @Test
  void releasesTheCidrWhenTheNodeIsDeletedAndReusesIt() {
    cluster.startOperator(cluster.config());
    createNode("node-a", "198.18.1.1");
    createNode("node-b", "198.18.1.2");
    await().atMost(Duration.ofSeconds(15)).until(() -> cluster.states(Kind.NODES).size() == 2);
    String cidrOfA = cluster.<Node>state(Kind.NODES, "node-a").orElseThrow().getPodCidrs(0);

    cluster.kubernetes().nodes().withName("node-a").delete();

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(cluster.state(Kind.NODES, "node-a")).isEmpty();
      assertThat(cluster.kubernetes().resources(MeshNode.class).withName("node-a").get()).isNull();
    });
    createNode("node-c", "198.18.1.3");
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(cluster.<Node>state(Kind.NODES, "node-c").orElseThrow().getPodCidrsList())
            .containsExactly(cidrOfA));
  }

  @Test
  void keepsAllocationsAcrossOperatorRestartsAndNeverHandsOutABlockTwice() {
    OperatorComponent first = cluster.startOperator(cluster.config());
    createNode("node-a", "198.18.1.1");
    await().atMost(Duration.ofSeconds(15)).until(() -> cluster.state(Kind.NODES, "node-a").isPresent());
    first.lifecycle().stop();

    cluster.startOperator(cluster.config());
    createNode("node-b", "198.18.1.2");

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(cluster.<Node>state(Kind.NODES, "node-a").orElseThrow().getPodCidrsList())
          .containsExactly("10.2.0.0/24");
      assertThat(cluster.<Node>state(Kind.NODES, "node-b").orElseThrow().getPodCidrsList())
          .containsExactly("10.2.1.0/24");
    });
  }

  @Test
  void reportsAnExhaustedPoolAsConditionAndEventAndRecoversWhenABlockIsFreed() {
    // A /23 cut into /24s has room for exactly two nodes.
    cluster.startOperator(
        cluster.config("--cluster-pool-ipv4-cidr=10.2.0.0/23", "--cluster-pool-ipv4-mask-size=24"));
    createNode("node-a", "198.18.1.1");
    createNode("node-b", "198.18.1.2");
    await().atMost(Duration.ofSeconds(15)).until(() -> cluster.states(Kind.NODES).size() == 2);

    createNode("node-c", "198.18.1.3");

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      MeshNode meshNode = cluster.kubernetes().resources(MeshNode.class).withName("node-c").get();
      assertThat(meshNode).isNotNull();
      assertThat(meshNode.getSpec().getPodCIDRs()).isEmpty();
      assertThat(meshNode.getStatus().getConditions()).anySatisfy(c -> {
        assertThat(c.getType()).isEqualTo(MeshNode.CONDITION_POD_CIDR_ALLOCATED);
        assertThat(c.getStatus()).isEqualTo("False");
        assertThat(c.getReason()).isEqualTo("PoolExhausted");
        assertThat(c.getMessage()).contains("10.2.0.0/23", "node-c");
      });
      assertThat(cluster.kubernetes().v1().events().inNamespace("default").list().getItems())
          .anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("PoolExhausted");
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getInvolvedObject().getName()).isEqualTo("node-c");
          });
    });
    // The node is still published (without a CIDR), and the operator keeps running.
    assertThat(cluster.<Node>state(Kind.NODES, "node-c").orElseThrow().getPodCidrsList()).isEmpty();

    cluster.kubernetes().nodes().withName("node-a").delete();

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(cluster.<Node>state(Kind.NODES, "node-c").orElseThrow().getPodCidrsList())
            .containsExactly("10.2.0.0/24"));
  }

  private void createNode(String name, String internalIp) {
    cluster.kubernetes().nodes()
        .resource(
            new NodeBuilder()
                .withNewMetadata().withName(name).endMetadata()
                .withNewStatus()
                .addNewAddress().withType("InternalIP").withAddress(internalIp).endAddress()
                .addNewAddress().withType("Hostname").withAddress(name).endAddress()
                .endStatus()
                .build())
        .create();
  }
}
