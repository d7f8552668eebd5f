package dev.meshwork.testing.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs small test classes through the JUnit launcher to check when the extension starts and ends
 * etcd: once per class for a static field, once per test for an instance field, and never leaving a
 * process behind.
 */
class EtcdExtensionLifecycleIT {
  static final List<Long> pids = new ArrayList<>();

  @Test
  void staticFieldRunsOneEtcdForTheClassAndEndsItAfterwards() {
    pids.clear();

    TestExecutionSummary summary = run(ClassScoped.class);

    assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
    assertThat(pids).hasSize(2);
    assertThat(pids.get(1)).as("second test sees the same etcd process").isEqualTo(pids.get(0));
    assertThat(ProcessHandle.of(pids.get(0))).as("etcd is gone after the class").isEmpty();
  }

  @Test
  void classScopedEtcdStoppedByATestIsStartedAgainForTheNext() {
    pids.clear();

    TestExecutionSummary summary = run(StopsEtcd.class);

    assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
    assertThat(pids).hasSize(2);
    pids.forEach(pid -> assertThat(ProcessHandle.of(pid)).isEmpty());
  }

  @Test
  void instanceFieldRunsOneEtcdPerTest() {
    pids.clear();

    TestExecutionSummary summary = run(MethodScoped.class);

    assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
    assertThat(pids).hasSize(2).doesNotHaveDuplicates();
    pids.forEach(pid -> assertThat(ProcessHandle.of(pid)).isEmpty());
  }

  @Test
  void failingTestStillEndsEtcd() {
    pids.clear();

    TestExecutionSummary summary = run(FailingTest.class);

    assertThat(summary.getTestsFailedCount()).isEqualTo(1);
    assertThat(pids).hasSize(1);
    assertThat(ProcessHandle.of(pids.get(0))).isEmpty();
  }

  @Test
  void nestedTestClassesShareTheOuterClassEtcd() {
    pids.clear();

    TestExecutionSummary summary = run(WithNested.class);

    assertThat(summary.getTestsSucceededCount()).isEqualTo(2);
    assertThat(pids).hasSize(2);
    assertThat(pids.get(1)).isEqualTo(pids.get(0));
    assertThat(ProcessHandle.of(pids.get(0))).isEmpty();
  }

  private static TestExecutionSummary run(Class<?> testClass) {
    Launcher launcher = LauncherFactory.create();
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass)).build(), listener);
    return listener.getSummary();
  }

  // The classes below run only through run(...): surefire skips nested classes.

  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class ClassScoped {
    @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

    @Test
    @Order(1)
    void first() {
      pids.add((long) etcd.pid());
      etcd.put("k", "v");
    }

    @Test
    @Order(2)
    void second() {
      pids.add((long) etcd.pid());
      assertThat(etcd.get("k")).isPresent();
    }
  }

  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  static class StopsEtcd {
    @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

    @Test
    @Order(1)
    void stopsIt() {
      pids.add((long) etcd.pid());
      etcd.put("k", "v");
      etcd.stop();
    }

    @Test
    @Order(2)
    void findsItRunningWithItsData() {
      pids.add((long) etcd.pid());
      assertThat(etcd.get("k")).isPresent();
    }
  }

  static class MethodScoped {
    @RegisterExtension final EtcdExtension etcd = EtcdExtension.plain();

    @Test
    void one() {
      pids.add((long) etcd.pid());
      assertThat(etcd.get("k")).isEmpty();
      etcd.put("k", "v");
    }

    @Test
    void two() {
      pids.add((long) etcd.pid());
      assertThat(etcd.get("k")).isEmpty();
      etcd.put("k", "v");
    }
  }

  static class FailingTest {
    @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

    @Test
    void fails() {
      pids.add((long) etcd.pid());
      throw new AssertionError("expected failure");
    }
  }

  static class WithNested {
    @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();

    @Test
    void outer() {
      pids.add((long) etcd.pid());
    }

    @org.junit.jupiter.api.Nested
    class Inner {
      @Test
      void inner() {
        pids.add((long) etcd.pid());
      }
    }
  }
}
