package dev.meshwork.common.logging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class LogFieldsTest {
  @AfterEach
  void clear() {
    MDC.clear();
  }

  @Test
  void putsFieldsForTheScopeAndRemovesThemAfter() {
    try (var _ = LogFields.with(LogFields.CLUSTER, "cluster-2", LogFields.SERVICE, "default/web")) {
      assertThat(MDC.get("cluster")).isEqualTo("cluster-2");
      assertThat(MDC.get("service")).isEqualTo("default/web");
    }

    assertThat(MDC.get("cluster")).isNull();
    assertThat(MDC.get("service")).isNull();
  }

  @Test
  void nestedScopesRestoreTheOuterValues() {
    try (var _ = LogFields.with(LogFields.CLUSTER, "cluster-1")) {
      try (var _ = LogFields.with(LogFields.CLUSTER, "cluster-2", LogFields.KEY, "meshwork/v1/state/nodes/cluster-2/n1")) {
        assertThat(MDC.get("cluster")).isEqualTo("cluster-2");
      }
      assertThat(MDC.get("cluster")).isEqualTo("cluster-1");
      assertThat(MDC.get("key")).isNull();
    }
    assertThat(MDC.get("cluster")).isNull();
  }

  @Test
  void nullValueHidesAFieldForTheScope() {
    MDC.put("node", "node-1");
    Map<String, String> fields = new HashMap<>();
    fields.put(LogFields.NODE, null);

    try (var _ = LogFields.with(fields)) {
      assertThat(MDC.get("node")).isNull();
    }
    assertThat(MDC.get("node")).isEqualTo("node-1");
  }

  @Test
  void closingTwiceIsHarmless() {
    var scope = LogFields.with(LogFields.REMOTE, "https://127.0.0.1:2379");
    scope.close();
    MDC.put("remote", "later");

    scope.close();

    assertThat(MDC.get("remote")).isEqualTo("later");
  }

  @Test
  void mustBeClosedOnTheThreadThatPutThem() throws Exception {
    var scope = LogFields.with(LogFields.ENDPOINT, "default/pod-1");
    AtomicReference<Throwable> error = new AtomicReference<>();

    Thread other = Thread.ofVirtual().start(() -> {
      try {
        scope.close();
      } catch (Throwable e) {
        error.set(e);
      }
    });
    other.join();

    assertThat(error.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("thread that put them");
    scope.close();
    assertThat(MDC.get("endpoint")).isNull();
  }

  @Test
  void namesEveryField() {
    assertThat(LogFields.ALL).containsExactly("cluster", "node", "service", "endpoint", "key", "remote");
  }
}
