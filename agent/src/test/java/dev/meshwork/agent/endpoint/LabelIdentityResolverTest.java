package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LabelIdentityResolverTest {
  static final PodRef POD = new PodRef("testing", "web-1");
  static final List<String> LABELS = List.of("k8s:app=web", "k8s:io.kubernetes.pod.namespace=testing");

  @Test
  void readsThePodUntilItExistsThenWaitsForTheIdentityOfItsLabels() throws Exception {
    AtomicInteger podReads = new AtomicInteger();
    AtomicInteger tableReads = new AtomicInteger();
    LabelIdentityResolver resolver = new LabelIdentityResolver(
        pod -> podReads.incrementAndGet() < 3 ? Optional.empty() : Optional.of(LABELS),
        labels -> tableReads.incrementAndGet() < 3 ? OptionalInt.empty() : OptionalInt.of(131_372),
        Duration.ofMillis(10));

    assertThat(resolver.await(POD, Duration.ofSeconds(10))).contains(new PodIdentity(131_372, LABELS));
    assertThat(podReads).as("the pod is read until found, then kept").hasValue(3);
  }

  @Test
  void aFailingPodLookupIsRetriedUntilTheTimeout() throws Exception {
    AtomicInteger podReads = new AtomicInteger();
    LabelIdentityResolver resolver = new LabelIdentityResolver(
        pod -> {
          podReads.incrementAndGet();
          throw new IllegalStateException("connection refused");
        },
        labels -> OptionalInt.of(131_372),
        Duration.ofMillis(20));

    assertThat(resolver.await(POD, Duration.ofMillis(1200))).isEmpty();
    assertThat(podReads.get()).as("at most every 500 ms, not at every 20 ms poll").isBetween(1, 4);
  }

  @Test
  void labelsWithoutAnIdentityTimeOut() throws Exception {
    LabelIdentityResolver resolver =
        new LabelIdentityResolver(pod -> Optional.of(LABELS), labels -> OptionalInt.empty(), Duration.ofMillis(20));

    assertThat(resolver.await(POD, Duration.ofMillis(150))).isEmpty();
  }
}
