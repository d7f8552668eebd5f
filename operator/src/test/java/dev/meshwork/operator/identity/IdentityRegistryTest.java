package dev.meshwork.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.operator.state.InMemoryClusterStateWriter;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.testing.time.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class IdentityRegistryTest {

  private static final LocalCluster CLUSTER = new LocalCluster("k8s-shared-cluster", 2);
  private static final LabelSet BACKEND = new LabelSet(List.of(
      "k8s:app=backend", "k8s:io.kubernetes.pod.namespace=testing"));
  private static final LabelSet GOLD = new LabelSet(List.of(
      "k8s:app=backend", "k8s:tier=gold", "k8s:io.kubernetes.pod.namespace=testing"));

  private final ManualClock clock = new ManualClock();
  private final InMemoryClusterStateWriter writer = new InMemoryClusterStateWriter();
  private final InMemoryIdentityAllocator allocator = new InMemoryIdentityAllocator(CLUSTER.id());
  private final IdentityRegistry registry = new IdentityRegistry(
      CLUSTER, allocator, writer, clock, Duration.ofMinutes(5), new SimpleMeterRegistry());

  @Test
  void podsWithOneLabelSetShareTheFirstIdentityOfTheClusterRange() throws Exception {
    int first = registry.acquire("testing/backend-1", BACKEND);
    int second = registry.acquire("testing/backend-2", BACKEND);

    assertThat(first).isEqualTo(second).isEqualTo(2 << 16 | 256);
    Identity written = (Identity) writer.of(Kind.IDENTITIES).get(Integer.toString(first));
    assertThat(written.getLabelsList()).containsExactlyElementsOf(BACKEND.labels());
    assertThat(written.getCluster()).isEqualTo("k8s-shared-cluster");
  }

  @Test
  void anIdentityIsWrittenOnceWhenAllocatedNotAgainForEveryPodThatAcquiresIt() throws Exception {
    registry.prepare(List.of(GOLD));
    registry.acquire("testing/backend-1", BACKEND);
    assertThat(writer.puts(Kind.IDENTITIES)).isEqualTo(2);

    for (int pod = 2; pod <= 10; pod++) {
      registry.acquire("testing/backend-" + pod, BACKEND);
      registry.acquire("testing/gold-" + pod, GOLD);
    }

    assertThat(writer.puts(Kind.IDENTITIES)).isEqualTo(2);
    assertThat(writer.of(Kind.IDENTITIES)).hasSize(2);
  }

  @Test
  void preparedIdentitiesAreAllocatedInOneCallAndPodsThenAcquireThemWithoutAnother() throws Exception {
    int known = registry.acquire("testing/backend-1", BACKEND);
    int calls = allocator.calls;

    assertThat(registry.prepare(List.of(BACKEND, GOLD, GOLD))).as("only GOLD is new").isEqualTo(1);
    assertThat(allocator.calls).isEqualTo(calls + 1);
    int gold = registry.idOf(GOLD).orElseThrow();
    assertThat(gold).isNotEqualTo(known);
    assertThat(writer.of(Kind.IDENTITIES)).containsKey(Integer.toString(gold));

    assertThat(registry.acquire("testing/gold-1", GOLD)).isEqualTo(gold);
    assertThat(allocator.calls).isEqualTo(calls + 1);
  }

  @Test
  void aPreparedIdentityNoPodAcquiresIsFreedAfterTheGracePeriod() throws Exception {
    registry.prepare(List.of(GOLD));
    int gold = registry.idOf(GOLD).orElseThrow();

    clock.advance(Duration.ofMinutes(5));

    assertThat(registry.collectGarbage()).containsExactly(gold);
  }

  @Test
  void anUnusedIdentityIsFreedOnlyAfterTheGracePeriod() throws Exception {
    int old = registry.acquire("testing/backend-1", BACKEND);
    int moved = registry.acquire("testing/backend-1", GOLD);
    assertThat(moved).isNotEqualTo(old);

    clock.advance(Duration.ofMinutes(4));
    assertThat(registry.collectGarbage()).isEmpty();
    assertThat(writer.of(Kind.IDENTITIES)).containsKey(Integer.toString(old));

    clock.advance(Duration.ofMinutes(1));
    assertThat(registry.collectGarbage()).containsExactly(old);
    assertThat(writer.of(Kind.IDENTITIES)).containsOnlyKeys(Integer.toString(moved));
    assertThat(allocator.claimed).containsOnlyKeys(moved);
  }

  @Test
  void aPodComingBackWithinGraceKeepsTheIdentity() throws Exception {
    int id = registry.acquire("testing/backend-1", BACKEND);
    registry.release("testing/backend-1");
    clock.advance(Duration.ofMinutes(3));

    assertThat(registry.acquire("testing/backend-1", BACKEND)).isEqualTo(id);
    clock.advance(Duration.ofMinutes(10));
    assertThat(registry.collectGarbage()).isEmpty();
  }

  @Test
  void identitiesFoundInTheStoreAreKeptForTheirPodsAndFreedIfNoneComes() throws Exception {
    allocator.claimed.put(2 << 16 | 300, BACKEND);
    allocator.claimed.put(2 << 16 | 301, GOLD);
    registry.restore();

    assertThat(registry.acquire("testing/backend-1", BACKEND)).isEqualTo(2 << 16 | 300);
    clock.advance(Duration.ofMinutes(5));
    assertThat(registry.collectGarbage()).containsExactly(2 << 16 | 301);
  }

  @Test
  void neverHandsOutAnIdClaimedByAnotherWriter() throws Exception {
    // Another replica claimed the first id for a label set this registry has not seen.
    allocator.claimed.put(2 << 16 | 256, GOLD);

    assertThat(registry.acquire("testing/backend-1", BACKEND)).isEqualTo(2 << 16 | 257);
  }
}
