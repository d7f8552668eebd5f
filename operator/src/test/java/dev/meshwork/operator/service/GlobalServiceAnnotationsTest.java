package dev.meshwork.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.proto.v1.Affinity;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GlobalServiceAnnotationsTest {

  @Test
  void aServiceWithoutAnnotationsIsNotGlobalAndHasTheDefaults() {
    var parsed = GlobalServiceAnnotations.parse(null);
    assertThat(parsed.global()).isFalse();
    assertThat(parsed.shared()).isTrue();
    assertThat(parsed.affinity()).isEqualTo(Affinity.AFFINITY_NONE);
    assertThat(parsed.problems()).isEmpty();
  }

  @Test
  void anyOfTheThreeGlobalAnnotationsMakesItGlobal() {
    for (String name : GlobalServiceAnnotations.GLOBAL) {
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "true")).global()).as(name).isTrue();
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "TRUE")).global()).as(name).isTrue();
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "false")).global()).as(name).isFalse();
    }
  }

  @Test
  void theMeshworkTwinWinsOverCiliumsName() {
    var parsed = GlobalServiceAnnotations.parse(Map.of(
        "service.cilium.io/global", "true",
        "service.cilium.io/shared", "true",
        "meshwork.dev/shared", "false",
        "service.cilium.io/affinity", "local",
        "meshwork.dev/affinity", "remote"));
    assertThat(parsed.shared()).isFalse();
    assertThat(parsed.affinity()).isEqualTo(Affinity.AFFINITY_REMOTE);
  }

  @Test
  void invalidValuesAreReportedAndReplacedByTheDefault() {
    var parsed = GlobalServiceAnnotations.parse(Map.of(
        "service.cilium.io/global", "yes",
        "service.cilium.io/shared", "nope",
        "service.cilium.io/affinity", "nearest"));
    assertThat(parsed.global()).isFalse();
    assertThat(parsed.shared()).isTrue();
    assertThat(parsed.affinity()).isEqualTo(Affinity.AFFINITY_NONE);
    assertThat(parsed.problems()).containsExactlyInAnyOrder(
        "annotation service.cilium.io/global=\"yes\" is invalid: use \"true\" or \"false\"; using false (not global)",
        "annotation service.cilium.io/shared=\"nope\" is invalid: use \"true\" or \"false\"; using true (shared)",
        "annotation service.cilium.io/affinity=\"nearest\" is invalid: use local, remote or none; using none");
  }
}
