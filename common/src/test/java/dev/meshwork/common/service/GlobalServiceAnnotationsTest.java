package dev.meshwork.common.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.common.service.GlobalServiceAnnotations.InvalidAnnotation;
import dev.meshwork.proto.v1.Affinity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** How a Service's global-service annotations are read, by the operator and the agent alike. */
class GlobalServiceAnnotationsTest {

  @Test
  void aServiceWithoutAnnotationsIsNotGlobalSharedAndWithoutAffinity() {
    var defaults = new GlobalServiceAnnotations(false, true, Affinity.AFFINITY_NONE, List.of());
    assertThat(GlobalServiceAnnotations.parse(null)).isEqualTo(defaults);
    assertThat(GlobalServiceAnnotations.parse(Map.of("app", "web"))).isEqualTo(defaults);
  }

  @Test
  void anyOfTheThreeGlobalAnnotationsMakesItGlobalWhateverTheCaseAndSpaces() {
    assertThat(GlobalServiceAnnotations.GLOBAL)
        .containsExactly("meshwork.dev/global", "service.cilium.io/global", "io.cilium/global-service");
    for (String name : GlobalServiceAnnotations.GLOBAL) {
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "true")).global()).as(name).isTrue();
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, " TRUE ")).global()).as(name).isTrue();
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "false")).global()).as(name).isFalse();
    }
  }

  @Test
  void oneTrueGlobalAnnotationIsEnoughEvenWhenAnotherSaysFalse() {
    var parsed = GlobalServiceAnnotations.parse(Map.of(
        "meshwork.dev/global", "false",
        "io.cilium/global-service", "true"));
    assertThat(parsed.global()).isTrue();
  }

  @Test
  void sharedAndAffinityAreReadUnderEachOfTheirNames() {
    for (String name : GlobalServiceAnnotations.SHARED) {
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "False")).shared()).as(name).isFalse();
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "true")).shared()).as(name).isTrue();
    }
    for (String name : GlobalServiceAnnotations.AFFINITY) {
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "local")).affinity()).as(name)
          .isEqualTo(Affinity.AFFINITY_LOCAL);
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "Remote")).affinity()).as(name)
          .isEqualTo(Affinity.AFFINITY_REMOTE);
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "none")).affinity()).as(name)
          .isEqualTo(Affinity.AFFINITY_NONE);
      assertThat(GlobalServiceAnnotations.parse(Map.of(name, "")).affinity()).as(name)
          .isEqualTo(Affinity.AFFINITY_NONE);
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
    assertThat(parsed.problems()).isEmpty();
  }

  @Test
  void invalidValuesAreReportedByNameAndValueAndReplacedByTheDefault() {
    var parsed = GlobalServiceAnnotations.parse(Map.of(
        "service.cilium.io/global", "yes",
        "service.cilium.io/shared", "nope",
        "service.cilium.io/affinity", "nearest"));
    assertThat(parsed.global()).isFalse();
    assertThat(parsed.shared()).isTrue();
    assertThat(parsed.affinity()).isEqualTo(Affinity.AFFINITY_NONE);
    assertThat(parsed.problems()).containsExactly(
        new InvalidAnnotation("service.cilium.io/global", "yes", "\"true\" or \"false\"", "false (not global)"),
        new InvalidAnnotation("service.cilium.io/shared", "nope", "\"true\" or \"false\"", "true (shared)"),
        new InvalidAnnotation("service.cilium.io/affinity", "nearest", "local, remote or none", "none"));
    assertThat(parsed.problems()).extracting(InvalidAnnotation::message).containsExactly(
        "annotation service.cilium.io/global=\"yes\" is invalid: use \"true\" or \"false\"; using false (not global)",
        "annotation service.cilium.io/shared=\"nope\" is invalid: use \"true\" or \"false\"; using true (shared)",
        "annotation service.cilium.io/affinity=\"nearest\" is invalid: use local, remote or none; using none");
  }

  @Test
  void anInvalidTwinIsReportedAndTheOtherNamesValueIsUsed() {
    var parsed = GlobalServiceAnnotations.parse(Map.of(
        "meshwork.dev/global", "ja",
        "service.cilium.io/global", "true",
        "meshwork.dev/shared", "no",
        "service.cilium.io/shared", "false",
        "meshwork.dev/affinity", "closest",
        "service.cilium.io/affinity", "remote"));
    assertThat(parsed.global()).isTrue();
    assertThat(parsed.shared()).isFalse();
    assertThat(parsed.affinity()).isEqualTo(Affinity.AFFINITY_REMOTE);
    assertThat(parsed.problems()).extracting(InvalidAnnotation::message).containsExactly(
        "annotation meshwork.dev/global=\"ja\" is invalid: use \"true\" or \"false\"; using true (global)",
        "annotation meshwork.dev/shared=\"no\" is invalid: use \"true\" or \"false\"; using false (not shared)",
        "annotation meshwork.dev/affinity=\"closest\" is invalid: use local, remote or none; using remote");
  }
}
