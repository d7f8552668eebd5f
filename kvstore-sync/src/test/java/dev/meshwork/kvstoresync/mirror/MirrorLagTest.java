package dev.meshwork.kvstoresync.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class MirrorLagTest {
  private final Timer timer = Timer.builder("lag").register(new SimpleMeterRegistry());
  private final MirrorLag lag = new MirrorLag(timer);

  @Test
  void timesAChangeUntilItsLocalWrite() {
    lag.changed("k", 1);
    lag.written("k");

    assertThat(timer.count()).isEqualTo(1);
    assertThat(lag.oldestPendingMillis()).isZero();
  }

  @Test
  void doesNotTimeAnUnchangedValueThatWillNeverBeWritten() {
    lag.changed("k", 1);
    lag.written("k");
    lag.changed("k", 1); // relisted with the same value: the writer skips it

    lag.written("other");
    assertThat(timer.count()).isEqualTo(1);
    assertThat(lag.oldestPendingMillis()).isZero();
  }

  @Test
  void aCoalescedKeyIsTimedOnceFromItsFirstChange() throws Exception {
    lag.changed("k", 1);
    Thread.sleep(20);
    lag.changed("k", 2);

    assertThat(lag.oldestPendingMillis()).isGreaterThanOrEqualTo(20);
    lag.written("k");
    lag.written("k");
    assertThat(timer.count()).isEqualTo(1);
    assertThat(timer.max(java.util.concurrent.TimeUnit.MILLISECONDS)).isGreaterThanOrEqualTo(20);
  }

  @Test
  void deletesOfMirroredKeysAreTimedAndOthersIgnored() {
    lag.deleted("never-mirrored");
    assertThat(lag.oldestPendingMillis()).isZero();

    lag.changed("k", 1);
    lag.written("k");
    lag.deleted("k");
    lag.written("k");
    assertThat(timer.count()).isEqualTo(2);
  }

  @Test
  void aLocalWriteNobodyWaitsForIsNotTimed() {
    lag.written("rewritten-after-data-loss");
    assertThat(timer.count()).isZero();
  }
}
