package dev.meshwork.agent.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AffinityTest {

  @Test
  void eachAffinityOfTheContractIsTheAgentsOfTheSameNameAndAnUnknownOneIsNone() {
    assertThat(Affinity.of(dev.meshwork.proto.v1.Affinity.AFFINITY_NONE)).isEqualTo(Affinity.NONE);
    assertThat(Affinity.of(dev.meshwork.proto.v1.Affinity.AFFINITY_LOCAL)).isEqualTo(Affinity.LOCAL);
    assertThat(Affinity.of(dev.meshwork.proto.v1.Affinity.AFFINITY_REMOTE)).isEqualTo(Affinity.REMOTE);
    assertThat(Affinity.of(dev.meshwork.proto.v1.Affinity.UNRECOGNIZED)).isEqualTo(Affinity.NONE);
  }
}
