package dev.meshwork.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.OperatorComponent;
import dev.meshwork.operator.OperatorFixture;
import dev.meshwork.proto.v1.IPCacheEntry;
import dev.meshwork.proto.v1.Identity;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Pods → identities and ipcache entries, with a real etcd doing the compare-and-create. */
class PodIdentityIT {

  private static final Duration WAIT = Duration.ofSeconds(15);
  private static final Map<String, String> BACKEND = Map.of("app", "backend", "role", "database-service");

  @RegisterExtension final OperatorFixture cluster = OperatorFixture.perTest();

  @Test
  void podsWithTheSameLabelsShareOneIdentityInTheClusterRange() {
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    createPod("backend-2", "10.2.0.229", "198.18.1.2", BACKEND);
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() -> {
      IPCacheEntry first = cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").orElseThrow();
      IPCacheEntry second = cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.0.229").orElseThrow();
      assertThat(first.getIdentity()).isEqualTo(second.getIdentity());
      assertThat(first.getIdentity() >>> 16).isEqualTo(OperatorFixture.CLUSTER_ID);
      assertThat(first.getIdentity() & 0xFFFF).isBetween(256, 65535);
      assertThat(first.getHostIp()).isEqualTo("198.18.1.1");
      assertThat(first.getNamespace()).isEqualTo("testing");
      assertThat(first.getPodName()).isEqualTo("backend-1");
      assertThat(first.getCluster()).isEqualTo(OperatorFixture.CLUSTER);

      Identity identity = cluster.<Identity>state(Kind.IDENTITIES, Integer.toString(first.getIdentity())).orElseThrow();
      assertThat(identity.getCluster()).isEqualTo(OperatorFixture.CLUSTER);
      assertThat(identity.getLabelsList()).containsExactly(
          "k8s:app=backend",
          "k8s:io.cilium.k8s.policy.cluster=k8s-shared-cluster",
          "k8s:io.cilium.k8s.policy.serviceaccount=default",
          "k8s:io.kubernetes.pod.namespace=testing",
          "k8s:role=database-service");
    });
    await().atMost(WAIT).until(() ->
        cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.IPCACHE)).isPresent()
            && cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.IDENTITIES)).isPresent());
  }

  @Test
  void aLabelChangeMovesThePodToANewIdentityAndFreesTheOldOneAfterGrace() {
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    cluster.startOperator(cluster.config("--identity-gc-grace=2s"));
    int before = await().atMost(WAIT).until(
        () -> cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").map(IPCacheEntry::getIdentity).orElse(0),
        id -> id != 0);

    cluster.kubernetes().pods().inNamespace("testing").withName("backend-1")
        .edit(p -> new PodBuilder(p).editMetadata().addToLabels("tier", "gold").endMetadata().build());

    int after = await().atMost(WAIT).until(
        () -> cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").map(IPCacheEntry::getIdentity).orElse(before),
        id -> id != before);
    assertThat(cluster.<Identity>state(Kind.IDENTITIES, Integer.toString(after)).orElseThrow().getLabelsList())
        .contains("k8s:tier=gold");
    // Still there during the grace period, gone after it.
    assertThat(cluster.state(Kind.IDENTITIES, Integer.toString(before))).isPresent();
    await().atMost(WAIT).until(() -> cluster.state(Kind.IDENTITIES, Integer.toString(before)).isEmpty());
    assertThat(cluster.state(Kind.IDENTITIES, Integer.toString(after))).isPresent();
  }

  @Test
  void aDeletedPodLosesItsIpcacheEntry() {
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    createPod("backend-2", "10.2.0.229", "198.18.1.2", BACKEND);
    cluster.startOperator(cluster.config());
    await().atMost(WAIT).until(() -> cluster.states(Kind.IPCACHE).size() == 2);

    cluster.kubernetes().pods().inNamespace("testing").withName("backend-1").delete();

    await().atMost(WAIT).until(() -> cluster.state(Kind.IPCACHE, "10.2.1.214").isEmpty());
    assertThat(cluster.state(Kind.IPCACHE, "10.2.0.229")).isPresent();
  }

  @Test
  void anIpTakenOverByANewPodKeepsItsEntryWhenTheOldPodIsDeletedLate() {
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    cluster.startOperator(cluster.config());
    await().atMost(WAIT).until(() -> cluster.state(Kind.IPCACHE, "10.2.1.214").isPresent());

    // The address is reused by a new pod before the old pod's deletion reaches the operator.
    createPod("frontend-1", "10.2.1.214", "198.18.1.2", Map.of("app", "frontend"));
    await().atMost(WAIT).until(() -> cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214")
        .map(IPCacheEntry::getPodName).orElse("").equals("frontend-1"));
    cluster.kubernetes().pods().inNamespace("testing").withName("backend-1").delete();

    await().atMost(WAIT).until(() -> cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").isEmpty()
        || cluster.kubernetes().pods().inNamespace("testing").withName("backend-1").get() == null);
    await().pollDelay(Duration.ofSeconds(1)).atMost(WAIT).untilAsserted(() -> {
      IPCacheEntry entry = cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").orElseThrow();
      assertThat(entry.getPodName()).isEqualTo("frontend-1");
      assertThat(entry.getHostIp()).isEqualTo("198.18.1.2");
    });
  }

  @Test
  void keepsIdentitiesAcrossOperatorRestarts() {
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    OperatorComponent first = cluster.startOperator(cluster.config());
    int id = await().atMost(WAIT).until(
        () -> cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").map(IPCacheEntry::getIdentity).orElse(0),
        v -> v != 0);
    first.lifecycle().stop();

    createPod("frontend-1", "10.2.1.97", "198.18.1.1", Map.of("app", "frontend", "role", "web-service"));
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.97").orElseThrow().getIdentity())
          .isNotEqualTo(id);
      assertThat(cluster.<IPCacheEntry>state(Kind.IPCACHE, "10.2.1.214").orElseThrow().getIdentity())
          .isEqualTo(id);
    });
  }

  @Test
  void hostNetworkAndUnscheduledPodsGetNoEntry() {
    Pod hostNetwork = pod("kube-proxy-x", "198.18.1.1", "198.18.1.1", Map.of("k8s-app", "kube-proxy"));
    hostNetwork.getSpec().setHostNetwork(true);
    cluster.kubernetes().pods().inNamespace("testing").resource(hostNetwork).create();
    Pod pending = pod("pending-1", null, null, BACKEND);
    cluster.kubernetes().pods().inNamespace("testing").resource(pending).create();
    createPod("backend-1", "10.2.1.214", "198.18.1.1", BACKEND);
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).until(() ->
        cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.IPCACHE)).isPresent());
    assertThat(cluster.states(Kind.IPCACHE)).containsOnlyKeys("10.2.1.214");
  }

  @Test
  void aScheduledPodWithoutAnIpAlreadyHasItsIdentitySoThatTheAgentCanSetItUp() {
    cluster.kubernetes().pods().inNamespace("testing").resource(pod("backend-new", null, null, BACKEND)).create();
    cluster.startOperator(cluster.config());

    await().atMost(WAIT).untilAsserted(() ->
        assertThat(cluster.<Identity>states(Kind.IDENTITIES).values())
            .singleElement()
            .satisfies(identity -> assertThat(identity.getLabelsList()).contains("k8s:app=backend")));
    await().atMost(WAIT).until(() ->
        cluster.get(KeyLayout.state().syncedKey(OperatorFixture.CLUSTER, Kind.IPCACHE)).isPresent());
    assertThat(cluster.states(Kind.IPCACHE)).isEmpty();
  }

  private void createPod(String name, String ip, String hostIp, Map<String, String> labels) {
    cluster.kubernetes().pods().inNamespace("testing").resource(pod(name, ip, hostIp, labels)).create();
  }

  private static Pod pod(String name, String ip, String hostIp, Map<String, String> labels) {
    var builder =
        new PodBuilder()
            .withNewMetadata().withName(name).withNamespace("testing").withLabels(labels)
            .addToLabels("pod-template-hash", "5d8f7c9b4")
            .endMetadata()
            .withNewSpec().withNodeName("node-1").addNewContainer().withName("app").withImage("busybox").endContainer().endSpec();
    if (ip == null) {
      return builder.withNewStatus().withPhase("Pending").endStatus().build();
    }
    return builder
        .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP().withIp(ip).endPodIP().withHostIP(hostIp).endStatus()
        .build();
  }
}
