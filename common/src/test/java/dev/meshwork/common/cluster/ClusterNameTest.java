package dev.meshwork.common.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ClusterNameTest {
  @ParameterizedTest
  @ValueSource(strings = {"a", "cluster-1", "k8s-shared-cluster", "0", "1-2-3", "abcdefghijklmnopqrstuvwxyz012345"})
  void acceptsValidNames(String name) {
    assertThat(ClusterName.of(name).value()).isEqualTo(name);
    assertThat(ClusterName.isValid(name)).isTrue();
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "''| invalid cluster name \"\": it is empty",
      "abcdefghijklmnopqrstuvwxyz0123456| invalid cluster name \"abcdefghijklmnopqrstuvwxyz0123456\": it has 33 characters, at most 32 are allowed",
      "Cluster1| invalid cluster name \"Cluster1\": character 'C' at position 1 is not allowed (only a-z, 0-9 and '-')",
      "cluster_1| invalid cluster name \"cluster_1\": character '_' at position 8 is not allowed (only a-z, 0-9 and '-')",
      "cluster.one| invalid cluster name \"cluster.one\": character '.' at position 8 is not allowed (only a-z, 0-9 and '-')",
      "-cluster| invalid cluster name \"-cluster\": it must start and end with a letter or digit",
      "cluster-| invalid cluster name \"cluster-\": it must start and end with a letter or digit",
      "clu ster| invalid cluster name \"clu ster\": character ' ' at position 4 is not allowed (only a-z, 0-9 and '-')"})
  void refusesInvalidNamesSayingWhy(String name, String message) {
    assertThatThrownBy(() -> ClusterName.of(name)).isInstanceOf(IllegalArgumentException.class).hasMessage(message);
    assertThat(ClusterName.isValid(name)).isFalse();
  }

  @Test
  void refusesNullAndNonAsciiCharacters() {
    assertThatThrownBy(() -> ClusterName.of(null)).hasMessage("invalid cluster name null: it is empty");
    assertThatThrownBy(() -> ClusterName.of("clüster")).hasMessageContaining("character U+00FC at position 3");
    assertThatThrownBy(() -> ClusterName.of("a/b")).hasMessageContaining("'/'");
  }

  @Test
  void problemExplainsWithoutThrowing() {
    assertThat(ClusterName.problem("ok-name")).isEmpty();
    assertThat(ClusterName.problem("Bad")).hasValueSatisfying(reason -> assertThat(reason).startsWith("character 'B'"));
  }

  @Test
  void isAValueWithItsTextAsString() {
    assertThat(ClusterName.of("cluster-1")).isEqualTo(ClusterName.of("cluster-1")).hasToString("cluster-1");
    assertThat(ClusterName.of("a").compareTo(ClusterName.of("b"))).isNegative();
  }
}
