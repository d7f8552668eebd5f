package dev.meshwork.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClusterIdTest {
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 128, 255})
  void acceptsOneTo255(int id) {
    assertThat(ClusterId.of(id).value()).isEqualTo(id);
    assertThat(ClusterId.isValid(id)).isTrue();
  }

  @ParameterizedTest
  @ValueSource(ints = {0, -1, 256, 65536, Integer.MIN_VALUE})
  void refusesIdsOutside1To255(int id) {
    assertThatThrownBy(() -> ClusterId.of(id))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("invalid cluster id " + id + ": it is outside 1..255");
    assertThat(ClusterId.isValid(id)).isFalse();
  }

  @Test
  void parsesDecimalText() {
    assertThat(ClusterId.parse(" 42 ")).isEqualTo(ClusterId.of(42));
    assertThatThrownBy(() -> ClusterId.parse("forty")).hasMessage("invalid cluster id \"forty\": it is not an integer");
    assertThatThrownBy(() -> ClusterId.parse("300")).hasMessage("invalid cluster id 300: it is outside 1..255");
  }

  @Test
  void isAValue() {
    assertThat(ClusterId.of(7)).isEqualTo(ClusterId.of(7)).hasToString("7");
    assertThat(ClusterId.of(1).compareTo(ClusterId.of(2))).isNegative();
  }
}
