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
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Claims identities with etcd transactions on {@code state/identities/<cluster>/<id>}:
 * create-if-absent ({@code create_revision == 0}), and delete-if-unchanged when freeing. The
 * key is the claim, so two writers can never hand out one id for two label sets.
 */
public final class EtcdIdentityAllocator implements IdentityAllocator {

  private static final Logger log = LoggerFactory.getLogger(EtcdIdentityAllocator.class);
  private static final long TIMEOUT_SECONDS = 10;

  private final EtcdConnection etcd;
  private final KeyLayout layout;
  private final LocalCluster cluster;
  private final IdentityRange range;

  public EtcdIdentityAllocator(EtcdConnection etcd, KeyLayout layout, LocalCluster cluster) {
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
    for (int id = range.first(); id <= range.last(); id++) {
      if (inUse.test(id)) {
        continue;
      }
      ByteSequence key = bytes(layout.identityKey(cluster.name(), Integer.toUnsignedLong(id)));
      ByteSequence value = ByteSequence.from(encode(id, labels));
      TxnResponse response =
          etcd.client()
              .getKVClient()
              .txn()
              .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0)))
              .Then(Op.put(key, value, PutOption.DEFAULT))
              .Else(Op.get(key, GetOption.DEFAULT))
              .commit()
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (response.isSucceeded()) {
        return id;
      }
      // Someone holds the id: ours if the labels match (e.g. written before a restart).
      for (var get : response.getGetResponses()) {
        for (KeyValue kv : get.getKvs()) {
          Identity held = decode(kv.getKey().toString(StandardCharsets.UTF_8), kv);
          if (held != null && new LabelSet(held.getLabelsList()).equals(labels)) {
            return id;
          }
        }
      }
    }
    throw new IdentitiesExhaustedException(
        "cluster "
            + cluster.name()
            + " has no free identity in "
            + range.first()
            + ".."
            + range.last()
            + " for labels "
            + labels);
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
