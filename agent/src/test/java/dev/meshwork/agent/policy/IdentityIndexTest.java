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
}
