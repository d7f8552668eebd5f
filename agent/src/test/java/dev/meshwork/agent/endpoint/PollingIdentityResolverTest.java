package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class PollingIdentityResolverTest {
  private static final PodRef POD = new PodRef("shop", "cart");
  private static final PodIdentity IDENTITY = new PodIdentity(31000, List.of("k8s:app=cart"));

  @Test
  void returnsTheIdentityOnceTheLookupKnowsIt() throws Exception {
    AtomicInteger asked = new AtomicInteger();
    PollingIdentityResolver resolver = new PollingIdentityResolver(
        pod -> asked.incrementAndGet() < 3 ? Optional.empty() : Optional.of(IDENTITY), Duration.ofMillis(5));

    assertThat(resolver.await(POD, Duration.ofSeconds(5))).contains(IDENTITY);
    assertThat(asked).hasValue(3);
  }

  @Test
  void givesUpAfterTheTimeout() throws Exception {
    PollingIdentityResolver resolver = new PollingIdentityResolver(pod -> Optional.empty(), Duration.ofMillis(10));
    long start = System.nanoTime();

    assertThat(resolver.await(POD, Duration.ofMillis(100))).isEmpty();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
  }

  @Test
  void rejectsANonPositiveInterval() {
    assertThatThrownBy(() -> new PollingIdentityResolver(pod -> Optional.empty(), Duration.ZERO))
        .hasMessageContaining("interval");
  }
}
