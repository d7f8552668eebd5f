package dev.meshwork.operator.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.proto.v1.Identity;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Batched compare-and-create of identities against a real etcd: many claims per transaction,
 * with exactly the outcome per label set that a transaction of its own would give.
 */
class EtcdIdentityAllocatorIT {

  @RegisterExtension final EtcdExtension etcd = EtcdExtension.plain();

  private static final LocalCluster CLUSTER = new LocalCluster("k8s-shared-cluster", 2);
  private static final IdentityRange RANGE = new IdentityRange(CLUSTER.id());
  private final KeyLayout layout = KeyLayout.state();
  private final List<EtcdConnection> connections = new ArrayList<>();

  @AfterEach
  void disconnect() {
    connections.forEach(EtcdConnection::close);
  }

  private EtcdIdentityAllocator allocator(LocalCluster cluster) {
    EtcdConnection connection =
        EtcdConnection.of("test", EtcdClients.plain(List.of(URI.create(etcd.endpoint()))));
    connections.add(connection);
    return new EtcdIdentityAllocator(connection, layout, cluster);
  }

  private static LabelSet labels(String app) {
    return new LabelSet(List.of("k8s:app=" + app, "k8s:io.kubernetes.pod.namespace=testing"));
  }

  private static List<LabelSet> apps(String prefix, int from, int to) {
    return IntStream.range(from, to).mapToObj(i -> labels(prefix + i)).toList();
  }

  @Test
  void claimsThreeHundredLabelSetsInThreeTransactionsOfAtMost128Claims() throws Exception {
    EtcdIdentityAllocator allocator = allocator(CLUSTER);
    List<LabelSet> wanted = apps("app-", 0, 300);
    long txnsBefore = etcdTxnCalls();

    Map<LabelSet, Integer> ids = allocator.allocateAll(wanted, id -> false);

    assertThat(ids).containsOnlyKeys(wanted);
    assertThat(ids.values()).doesNotHaveDuplicates().allMatch(RANGE::contains);
    assertStoredAsClaimed(CLUSTER, ids);
    assertThat(allocator.transactions()).isEqualTo(3);
    assertThat(etcdTxnCalls() - txnsBefore).as("Txn calls etcd served").isEqualTo(3);
  }

  @Test
  void aConflictInABatchMovesOnlyTheConflictingLabelSetOnAndKeepsTheOtherClaims() throws Exception {
    int first = RANGE.first();
    List<LabelSet> wanted = apps("app-", 0, 5);
    // id first+1 is held by labels of someone else; id first+3 already holds app-3 (ours, e.g.
    // written before a restart).
    put(first + 1, labels("someone-else"));
    put(first + 3, wanted.get(3));
    EtcdIdentityAllocator allocator = allocator(CLUSTER);

    Map<LabelSet, Integer> ids = allocator.allocateAll(wanted, id -> false);

    assertThat(ids)
        .containsEntry(wanted.get(0), first)
        .containsEntry(wanted.get(1), first + 5) // moved on past the taken id
        .containsEntry(wanted.get(2), first + 2)
        .containsEntry(wanted.get(3), first + 3)
        .containsEntry(wanted.get(4), first + 4);
    assertThat(stored(CLUSTER).get(first + 1)).as("the other holder is untouched").isEqualTo(labels("someone-else"));
    assertStoredAsClaimed(CLUSTER, ids);
    assertThat(allocator.transactions()).as("the refused batch, then the batch without the conflict").isEqualTo(2);
  }

  @Test
  void twoOperatorsOfOneClusterClaimingAtOnceNeverGiveOneIdTwoLabelSets() throws Exception {
    EtcdIdentityAllocator leader = allocator(CLUSTER);
    EtcdIdentityAllocator deposed = allocator(CLUSTER);
    // 400 label sets each, 200 of them the same, so that both race for the same ids.
    List<LabelSet> mine = apps("app-", 0, 400);
    List<LabelSet> theirs = apps("app-", 200, 600);

    var both = claimTogether(leader, mine, deposed, theirs);

    assertThat(both.get(0)).containsOnlyKeys(mine);
    assertThat(both.get(1)).containsOnlyKeys(theirs);
    assertStoredAsClaimed(CLUSTER, both.get(0));
    assertStoredAsClaimed(CLUSTER, both.get(1));
    // Every identity key was created once and never overwritten by the other operator.
    for (KeyValue kv : identityKeys(CLUSTER)) {
      assertThat(kv.getVersion()).as("version of %s", kv.getKey()).isEqualTo(1);
    }
  }

  @Test
  void operatorsOfTwoClustersSharingOneEtcdClaimDisjointIdsUnderTheirOwnPrefixes() throws Exception {
    LocalCluster other = new LocalCluster("k8s-other-cluster", 3);
    List<LabelSet> wanted = apps("app-", 0, 200);

    var both = claimTogether(allocator(CLUSTER), wanted, allocator(other), wanted);

    assertThat(both.get(0).values()).allMatch(RANGE::contains);
    assertThat(both.get(1).values()).allMatch(new IdentityRange(other.id())::contains);
    assertThat(both.get(0).values()).doesNotContainAnyElementsOf(both.get(1).values());
    assertStoredAsClaimed(CLUSTER, both.get(0));
    assertStoredAsClaimed(other, both.get(1));
  }

  @Test
  void skipsIdsTheCallerHoldsAndLeavesOutLabelSetsTheRangeHasNoIdFor() throws Exception {
    EtcdIdentityAllocator allocator = allocator(CLUSTER);
    int last = RANGE.last();
    // Only the last two ids of the range are free.
    Map<LabelSet, Integer> ids = allocator.allocateAll(apps("app-", 0, 3), id -> id < last - 1);

    assertThat(ids).hasSize(2).containsValues(last - 1, last);
    assertStoredAsClaimed(CLUSTER, ids);
  }

  @Test
  void claimsInSmallerTransactionsWhenEtcdAllowsFewerOperationsThanItsDefault() throws Exception {
    try (EtcdExtension strict = EtcdExtension.plain().withArgs("--max-txn-ops=20")) {
      strict.start();
      EtcdConnection connection =
          EtcdConnection.of("strict", EtcdClients.plain(List.of(URI.create(strict.endpoint()))));
      connections.add(connection);
      EtcdIdentityAllocator allocator = new EtcdIdentityAllocator(connection, layout, CLUSTER);

      Map<LabelSet, Integer> ids = allocator.allocateAll(apps("app-", 0, 150), id -> false);

      assertThat(ids).hasSize(150);
      assertThat(ids.values()).doesNotHaveDuplicates();
      assertThat(allocator.claimsPerTransaction()).isLessThanOrEqualTo(20);
    }
  }

  /** Runs both claims at the same instant on two threads; their results, in order. */
  private static List<Map<LabelSet, Integer>> claimTogether(
      EtcdIdentityAllocator a, List<LabelSet> aWants, EtcdIdentityAllocator b, List<LabelSet> bWants)
      throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    var first = CompletableFuture.supplyAsync(() -> claimAfter(go, a, aWants));
    var second = CompletableFuture.supplyAsync(() -> claimAfter(go, b, bWants));
    go.countDown();
    return List.of(first.get(60, TimeUnit.SECONDS), second.get(60, TimeUnit.SECONDS));
  }

  private static Map<LabelSet, Integer> claimAfter(
      CountDownLatch go, EtcdIdentityAllocator allocator, List<LabelSet> labels) {
    try {
      go.await();
      return allocator.allocateAll(labels, id -> false);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** Every claimed id holds, in etcd, exactly the label set it was claimed for. */
  private void assertStoredAsClaimed(LocalCluster cluster, Map<LabelSet, Integer> ids) throws Exception {
    Map<Integer, LabelSet> stored = stored(cluster);
    ids.forEach((labels, id) -> assertThat(stored.get(id)).as("labels stored at %d", id).isEqualTo(labels));
  }

  private Map<Integer, LabelSet> stored(LocalCluster cluster) throws Exception {
    Map<Integer, LabelSet> stored = new HashMap<>();
    for (KeyValue kv : identityKeys(cluster)) {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      if (Codecs.IDENTITY.decode(key, kv.getValue().getBytes()) instanceof Decoded.Value<Identity>(Identity identity)) {
        stored.put(identity.getId(), new LabelSet(identity.getLabelsList()));
      }
    }
    return stored;
  }

  private List<KeyValue> identityKeys(LocalCluster cluster) throws Exception {
    EtcdConnection connection = connections.getFirst();
    return connection.client().getKVClient()
        .get(ByteSequence.from(layout.prefix(dev.meshwork.kvstore.key.Kind.IDENTITIES, cluster.name()), StandardCharsets.UTF_8),
            GetOption.builder().isPrefix(true).build())
        .get(10, TimeUnit.SECONDS)
        .getKvs();
  }

  private void put(int id, LabelSet labels) {
    etcd.put(layout.identityKey(CLUSTER.name(), id),
        Codecs.IDENTITY.encode(EtcdIdentityAllocator.identity(CLUSTER.name(), id, labels)));
  }

  /** Txn calls etcd has answered so far, from its own metrics. */
  private long etcdTxnCalls() throws Exception {
    try (HttpClient http = HttpClient.newHttpClient()) {
      String metrics = http.send(HttpRequest.newBuilder(URI.create(etcd.endpoint() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString()).body();
      Matcher m = Pattern.compile("^grpc_server_handled_total\\{[^}]*grpc_method=\"Txn\"[^}]*\\} (\\S+)$", Pattern.MULTILINE)
          .matcher(metrics);
      long total = 0;
      while (m.find()) {
        total += (long) Double.parseDouble(m.group(1));
      }
      return total;
    }
  }
}
