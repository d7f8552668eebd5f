package dev.meshwork.operator.identity;

import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.InvalidKeyException;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.kvstore.key.ParsedKey;
import dev.meshwork.operator.cluster.LocalCluster;
import dev.meshwork.proto.v1.Identity;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.etcd.jetcd.kv.GetResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims identities with etcd transactions on {@code state/identities/<cluster>/<id>}:
 * create-if-absent ({@code create_revision == 0}), and delete-if-unchanged when freeing. The
 * key is the claim, so two writers can never hand out one id for two label sets. Many claims go
 * in one transaction ({@link #allocateAll}), so an initial sync of a thousand label sets costs
 * a handful of round trips, not a thousand.
 */
public final class EtcdIdentityAllocator implements IdentityAllocator {

  private static final Logger log = LoggerFactory.getLogger(EtcdIdentityAllocator.class);
  private static final long TIMEOUT_SECONDS = 10;
  /** etcd's default --max-txn-ops: the most compares, and the most puts, in one transaction. */
  public static final int DEFAULT_CLAIMS_PER_TRANSACTION = 128;

  private final EtcdConnection etcd;
  private final KeyLayout layout;
  private final LocalCluster cluster;
  private final IdentityRange range;
  private final AtomicLong transactions = new AtomicLong();
  private volatile int claimsPerTransaction;

  public EtcdIdentityAllocator(EtcdConnection etcd, KeyLayout layout, LocalCluster cluster) {
    this(etcd, layout, cluster, DEFAULT_CLAIMS_PER_TRANSACTION);
  }

  /** With at most {@code claimsPerTransaction} claims per etcd transaction. */
  public EtcdIdentityAllocator(
      EtcdConnection etcd, KeyLayout layout, LocalCluster cluster, int claimsPerTransaction) {
    if (claimsPerTransaction < 1) {
      throw new IllegalArgumentException("claims per transaction must be at least 1, got " + claimsPerTransaction);
    }
    this.claimsPerTransaction = claimsPerTransaction;
    this.etcd = etcd;
    this.layout = layout;
    this.cluster = cluster;
    this.range = new IdentityRange(cluster.id());
  }

  @Override
  public Map<LabelSet, Integer> existing() throws Exception {
    ByteSequence prefix = bytes(layout.prefix(Kind.IDENTITIES, cluster.name()));
    var response =
        etcd.client()
            .getKVClient()
            .get(prefix, GetOption.builder().isPrefix(true).build())
            .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Map<LabelSet, Integer> found = new HashMap<>();
    for (KeyValue kv : response.getKvs()) {
      String key = kv.getKey().toString(StandardCharsets.UTF_8);
      Identity identity = decode(key, kv);
      if (identity == null) {
        continue;
      }
      Integer previous = found.putIfAbsent(new LabelSet(identity.getLabelsList()), identity.getId());
      if (previous != null) {
        log.warn(
            "identities {} and {} of cluster {} have the same labels; using {}",
            previous,
            identity.getId(),
            cluster.name(),
            previous);
      }
    }
    return found;
  }

  @Override
  public int allocate(LabelSet labels, IntPredicate inUse) throws Exception {
    Integer id = allocateAll(List.of(labels), inUse).get(labels);
    if (id == null) {
      throw exhausted(labels);
    }
    return id;
  }

  /**
   * Claims in transactions of up to {@link #claimsPerTransaction()} keys: {@code If} every key
   * is absent, {@code Then} put them all, {@code Else} get them all. When any key is taken the
   * transaction changes nothing, and the gets tell which: a key held with the same labels is
   * ours (returned), a key held with other labels sends its label set on to the next free id, and
   * the other claims go again unchanged. Each label set thus gets exactly the outcome a
   * compare-and-create of its own key would give.
   */
  @Override
  public Map<LabelSet, Integer> allocateAll(Collection<LabelSet> labels, IntPredicate inUse)
      throws Exception {
    Map<LabelSet, Integer> claimed = new LinkedHashMap<>();
    Candidates candidates = new Candidates(inUse);
    ArrayDeque<LabelSet> waiting = new ArrayDeque<>(new LinkedHashSet<>(labels));
    while (!waiting.isEmpty()) {
      Map<LabelSet, Integer> batch = new LinkedHashMap<>();
      while (batch.size() < claimsPerTransaction && !waiting.isEmpty()) {
        LabelSet next = waiting.poll();
        int id = candidates.next();
        if (id < 0) {
          waiting.clear(); // the range is used up: the rest stay without an id
          break;
        }
        batch.put(next, id);
      }
      claim(batch, candidates, claimed);
    }
    return claimed; // the callers report label sets left without an id
  }

  /**
   * Claims the batch's ids into {@code claimed} until each is ours; a label set the range has no
   * id left for stays out.
   */
  private void claim(
      Map<LabelSet, Integer> batch, Candidates candidates, Map<LabelSet, Integer> claimed)
      throws Exception {
    while (!batch.isEmpty()) {
      List<Cmp> absent = new ArrayList<>(batch.size());
      List<Op> puts = new ArrayList<>(batch.size());
      List<Op> gets = new ArrayList<>(batch.size());
      batch.forEach(
          (labels, id) -> {
            ByteSequence key = bytes(layout.identityKey(cluster.name(), Integer.toUnsignedLong(id)));
            absent.add(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)));
            puts.add(Op.put(key, ByteSequence.from(encode(id, labels)), PutOption.DEFAULT));
            gets.add(Op.get(key, GetOption.DEFAULT));
          });
      TxnResponse response;
      try {
        response =
            etcd.client()
                .getKVClient()
                .txn()
                .If(absent.toArray(Cmp[]::new))
                .Then(puts.toArray(Op[]::new))
                .Else(gets.toArray(Op[]::new))
                .commit()
                .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        if (batch.size() > 1 && tooManyOperations(e)) {
          // This etcd runs with a --max-txn-ops below ours: use half, for good.
          claimsPerTransaction = Math.max(1, batch.size() / 2);
          log.warn("etcd refused {} claims in one transaction; claiming {} at a time from now on",
              batch.size(), claimsPerTransaction);
          List<Map.Entry<LabelSet, Integer>> entries = new ArrayList<>(batch.entrySet());
          for (int from = 0; from < entries.size(); from += claimsPerTransaction) {
            Map<LabelSet, Integer> part = new LinkedHashMap<>();
            for (var entry : entries.subList(from, Math.min(entries.size(), from + claimsPerTransaction))) {
              part.put(entry.getKey(), entry.getValue());
            }
            claim(part, candidates, claimed);
          }
          return;
        }
        throw e;
      }
      transactions.incrementAndGet();
      if (response.isSucceeded()) {
        claimed.putAll(batch);
        return;
      }
      List<GetResponse> held = response.getGetResponses();
      Map<LabelSet, Integer> again = new LinkedHashMap<>();
      int index = 0;
      for (Map.Entry<LabelSet, Integer> entry : batch.entrySet()) {
        List<KeyValue> kvs = held.get(index++).getKvs();
        if (kvs.isEmpty()) {
          again.put(entry.getKey(), entry.getValue()); // free: it only failed with the others
          continue;
        }
        KeyValue kv = kvs.getFirst();
        Identity holder = decode(kv.getKey().toString(StandardCharsets.UTF_8), kv);
        if (holder != null && new LabelSet(holder.getLabelsList()).equals(entry.getKey())) {
          claimed.put(entry.getKey(), entry.getValue()); // ours already, e.g. from before a restart
          continue;
        }
        int next = candidates.next();
        if (next >= 0) {
          again.put(entry.getKey(), next);
        }
      }
      batch = again;
    }
  }

  private static boolean tooManyOperations(ExecutionException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (String.valueOf(t.getMessage()).contains("too many operations in txn request")) {
        return true;
      }
    }
    return false;
  }

  /** The ids of the range in order, skipping those {@code inUse} says are taken. */
  private final class Candidates {
    private final IntPredicate inUse;
    private int next = range.first();

    Candidates(IntPredicate inUse) {
      this.inUse = inUse;
    }

    /** The next id to try; -1 when the range is used up. */
    int next() {
      while (next <= range.last()) {
        int id = next++;
        if (!inUse.test(id)) {
          return id;
        }
      }
      return -1;
    }
  }

  private IdentitiesExhaustedException exhausted(LabelSet labels) {
    return new IdentitiesExhaustedException(
        "cluster "
            + cluster.name()
            + " has no free identity in "
            + range.first()
            + ".."
            + range.last()
            + " for labels "
            + labels);
  }

  /** Claims per transaction; etcd refuses transactions of more than --max-txn-ops (128). */
  public int claimsPerTransaction() {
    return claimsPerTransaction;
  }

  /** Claim transactions committed so far (each is one round trip). */
  public long transactions() {
    return transactions.get();
  }

  @Override
  public void free(int id, LabelSet labels) throws Exception {
    ByteSequence key = bytes(layout.identityKey(cluster.name(), Integer.toUnsignedLong(id)));
    etcd.client()
        .getKVClient()
        .txn()
        .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(ByteSequence.from(encode(id, labels)))))
        .Then(Op.delete(key, DeleteOption.DEFAULT))
        .commit()
        .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
  }

  /** The value of identity {@code id}; also what the state writer writes for it. */
  public static Identity identity(String cluster, int id, LabelSet labels) {
    return Identity.newBuilder()
        .setId(id)
        .setCluster(cluster)
        .addAllLabels(labels.labels())
        .build();
  }

  private byte[] encode(int id, LabelSet labels) {
    return Codecs.IDENTITY.encode(identity(cluster.name(), id, labels));
  }

  private Identity decode(String key, KeyValue kv) {
    try {
      if (!(layout.parse(key) instanceof ParsedKey.IdentityKey parsed)
          || !range.contains(parsed.id())) {
        log.warn("ignoring identity key {}: not in the range of cluster {}", key, cluster.name());
        return null;
      }
    } catch (InvalidKeyException e) {
      log.warn("ignoring key {}: {}", key, e.getMessage());
      return null;
    }
    return switch (Codecs.IDENTITY.decode(key, kv.getValue().getBytes())) {
      case Decoded.Value<Identity>(Identity identity) -> identity;
      case Decoded.Failure<Identity>(String failedKey, String reason) -> {
        log.warn("ignoring identity {}: {}", failedKey, reason);
        yield null;
      }
    };
  }

  private static ByteSequence bytes(String text) {
    return ByteSequence.from(text, StandardCharsets.UTF_8);
  }
}
