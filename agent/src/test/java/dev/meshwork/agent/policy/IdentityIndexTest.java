package dev.meshwork.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Resolving a selector through the index selects exactly the identities the selector matches. */
class IdentityIndexTest {

  private static final List<String> KEYS = List.of("app", "tier", "io.kubernetes.pod.namespace", "io.cilium.k8s.policy.cluster");
  private static final List<String> VALUES = List.of("a", "b", "c", "d");

  @Test
  void selectAgreesWithSelectorMatchesForEveryOperatorOnRandomIdentities() {
    Random random = new Random(42);
    IdentityIndex index = new IdentityIndex();
    Map<Integer, LabelSet> all = new HashMap<>();
    for (int id = 256; id < 656; id++) {
      Map<String, String> labels = new HashMap<>();
      for (String key : KEYS) {
        if (random.nextInt(4) > 0) { // some identities lack some labels
          labels.put(key, VALUES.get(random.nextInt(VALUES.size())));
        }
      }
      LabelSet set = new LabelSet(labels);
      index.put(id, set);
      all.put(id, set);
    }
    // Identities that leave keep nothing behind in the index.
    for (int id = 256; id < 276; id++) {
      index.remove(id);
      all.remove(id);
    }

    for (int n = 0; n < 2_000; n++) {
      List<Requirement> requirements = new ArrayList<>();
      int count = random.nextInt(4);
      for (int i = 0; i < count; i++) {
        String key = KEYS.get(random.nextInt(KEYS.size()));
        Operator operator = Operator.values()[random.nextInt(Operator.values().length)];
        List<String> values = switch (operator) {
          case IN, NOT_IN -> List.copyOf(new HashSet<>(List.of(
              VALUES.get(random.nextInt(VALUES.size())), VALUES.get(random.nextInt(VALUES.size())), "absent")
              .subList(0, 1 + random.nextInt(3))));
          case EXISTS, DOES_NOT_EXIST -> List.of();
        };
        requirements.add(new Requirement(key, operator, values));
      }
      Selector selector = new Selector(requirements);

      Set<Integer> expected = new HashSet<>();
      all.forEach((id, labels) -> {
        if (selector.matches(labels)) {
          expected.add(id);
        }
      });
      assertThat(index.idsOf(index.select(selector))).as("select %s", selector).isEqualTo(expected);
    }
  }

  @Test
  void identitiesThatComeAndGoReuseSlotsWithoutLeavingLabelsBehind() {
    Random random = new Random(7);
    IdentityIndex index = new IdentityIndex();
    Map<Integer, LabelSet> all = new HashMap<>();
    for (int round = 0; round < 50; round++) {
      // Churn: some identities go, others (new ids, or old ids with other labels) take their slots.
      for (int n = 0; n < 40; n++) {
        int id = 256 + random.nextInt(200);
        if (random.nextInt(3) == 0) {
          index.remove(id);
          all.remove(id);
        } else {
          LabelSet set = randomLabels(random);
          index.put(id, set);
          all.put(id, set);
        }
      }
      assertThat(index.size()).isEqualTo(all.size());
      for (int n = 0; n < 40; n++) {
        Selector selector = randomSelector(random);
        Set<Integer> expected = new HashSet<>();
        all.forEach((id, labels) -> {
          if (selector.matches(labels)) {
            expected.add(id);
          }
        });
        assertThat(index.idsOf(index.select(selector))).as("round %d, select %s", round, selector).isEqualTo(expected);
      }
      all.forEach((id, labels) -> {
        assertThat(index.get(id)).isEqualTo(labels);
        assertThat(index.idAt(index.slot(id))).isEqualTo(id);
      });
    }
  }

  private static LabelSet randomLabels(Random random) {
    Map<String, String> labels = new HashMap<>();
    for (String key : KEYS) {
      if (random.nextInt(4) > 0) {
        labels.put(key, VALUES.get(random.nextInt(VALUES.size())));
      }
    }
    return new LabelSet(labels);
  }

  private static Selector randomSelector(Random random) {
    List<Requirement> requirements = new ArrayList<>();
    int count = random.nextInt(4);
    for (int i = 0; i < count; i++) {
      String key = KEYS.get(random.nextInt(KEYS.size()));
      Operator operator = Operator.values()[random.nextInt(Operator.values().length)];
      List<String> values = switch (operator) {
        case IN, NOT_IN -> List.of(VALUES.get(random.nextInt(VALUES.size())), VALUES.get(random.nextInt(VALUES.size())), "absent")
            .subList(0, 1 + random.nextInt(3));
        case EXISTS, DOES_NOT_EXIST -> List.of();
      };
      requirements.add(new Requirement(key, operator, values));
    }
    return new Selector(requirements);
  }
}
