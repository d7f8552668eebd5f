package dev.meshwork.agent.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.datapath.PolicyKey;
import dev.meshwork.datapath.PolicyKey.Direction;
import dev.meshwork.datapath.Protocol;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The per-endpoint reference counts behave like a map of counts, whatever the add/remove order. */
class EntryCountsTest {

  @Test
  void countsAgreeWithAHashMapOverRandomAddsAndRemovals() {
    Random random = new Random(11);
    EntryCounts counts = new EntryCounts();
    Map<Long, Integer> expected = new HashMap<>();
    // Few distinct entries and many operations: collisions, growth, and removals that must shift
    // later entries of a probe chain back.
    for (int step = 0; step < 200_000; step++) {
      long entry = randomEntry(random, 2_000);
      boolean present = expected.containsKey(entry);
      int delta = present && random.nextBoolean() ? -1 : 1;
      int count = expected.getOrDefault(entry, 0) + delta;
      if (count == 0) {
        expected.remove(entry);
      } else {
        expected.put(entry, count);
      }
      assertThat(counts.add(entry, delta)).isEqualTo(count);
      if (step % 1_000 == 0) {
        assertSameEntries(counts, expected, random);
      }
    }
    assertSameEntries(counts, expected, random);
  }

  @Test
  void anEntryWhoseCountReachesZeroIsGone() {
    EntryCounts counts = new EntryCounts();
    long entry = PolicyEntry.withIdentity(PolicyEntry.ofPort(Direction.INGRESS, new PortProtocol(80, Protocol.TCP)), 65_792);
    assertThat(counts.add(entry, 1)).isEqualTo(1);
    assertThat(counts.add(entry, 1)).isEqualTo(2);
    assertThat(counts.add(entry, -1)).isEqualTo(1);
    assertThat(counts.contains(entry)).isTrue();
    assertThat(counts.add(entry, -1)).isZero();
    assertThat(counts.contains(entry)).isFalse();
    assertThat(counts.size()).isZero();
  }

  @Test
  void anEntryGivesBackTheKeyItWasMadeFrom() {
    Random random = new Random(5);
    Protocol[] protocols = {null, Protocol.TCP, Protocol.UDP, Protocol.SCTP};
    for (int n = 0; n < 10_000; n++) {
      PolicyKey key =
          new PolicyKey(
              random.nextInt(),
              Direction.values()[random.nextInt(2)],
              random.nextInt(256) << 16 | random.nextInt(65_536),
              random.nextInt(65_536),
              protocols[random.nextInt(protocols.length)]);
      long entry = PolicyEntry.of(key);
      assertThat(entry).isNotNegative();
      assertThat(PolicyEntry.key(key.endpointIp(), entry)).isEqualTo(key);
    }
  }

  private static long randomEntry(Random random, int distinct) {
    int n = random.nextInt(distinct);
    return PolicyEntry.withIdentity(
        PolicyEntry.ofPort(Direction.values()[n & 1], new PortProtocol(n % 7, n % 3 == 0 ? null : Protocol.TCP)), n);
  }

  private static void assertSameEntries(EntryCounts counts, Map<Long, Integer> expected, Random random) {
    Set<Long> seen = new HashSet<>();
    counts.forEach(seen::add);
    assertThat(seen).isEqualTo(expected.keySet());
    assertThat(counts.size()).isEqualTo(expected.size());
    for (int i = 0; i < 50; i++) {
      long probe = randomEntry(random, 2_000);
      assertThat(counts.contains(probe)).isEqualTo(expected.containsKey(probe));
    }
  }
}
