package dev.meshwork.kvstoresync.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Message;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.codec.Codecs;
import dev.meshwork.kvstore.codec.Decoded;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.key.KeyLayout;
import dev.meshwork.kvstore.key.Kind;
import dev.meshwork.proto.v1.ClusterConfig;
import dev.meshwork.proto.v1.Node;
import dev.meshwork.testing.etcd.EtcdExtension;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ClusterMeshMirrorIT {
  private static final ClusterName LOCAL = ClusterName.of("local");
  private static final int LOCAL_ID = 1;

  @RegisterExtension final EtcdExtension localEtcd = EtcdExtension.plain();
  @RegisterExtension final EtcdExtension eastEtcd = EtcdExtension.tls();
  @RegisterExtension final EtcdExtension westEtcd = EtcdExtension.plain();

  @TempDir Path configDir;

  private EtcdConnection local;
  private ClusterMeshMirror mirror;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void connectLocal() {
    local = EtcdConnection.of("local", EtcdClients.plain(List.of(URI.create(localEtcd.endpoint()))));
  }

  @AfterEach
  void closeAll() throws Exception {
    if (mirror != null) {
      mirror.close();
    }
    for (AutoCloseable c : closeables) {
      c.close();
    }
    local.close();
  }

  private ClusterMeshMirror startMirror(Duration drainGrace, Backoff retry) {
    MirrorSettings settings = new MirrorSettings(LOCAL, ClusterId.of(LOCAL_ID), drainGrace, Duration.ofMillis(200), retry,
        Duration.ofMillis(300), 10_000, registry, InstantSource.system());
    mirror = new ClusterMeshMirror(configDir, local, settings);
    mirror.start();
    return mirror;
  }

  private ClusterMeshMirror startMirror() {
    return startMirror(Duration.ofMinutes(3), new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0));
  }

  private RemoteOperator operator(EtcdExtension etcd, String cluster, int id) {
    RemoteOperator operator = new RemoteOperator(etcd, cluster, id);
    closeables.add(operator);
    return operator;
  }

  /** The mirrored state keys of {@code remote} in the local etcd, in the cache layout, decoded. */
  private Map<String, Message> cachedState(String remote) {
    Map<String, Message> state = new HashMap<>();
    KeyLayout cache = KeyLayout.cache(remote);
    for (Kind kind : Kind.values()) {
      for (KeyValue kv : list(cache.prefix(kind, remote))) {
        String key = kv.getKey().toString(StandardCharsets.UTF_8);
        Decoded<? extends Message> decoded = kind.codec().decode(key, kv.getValue().getBytes());
        state.put(key, decoded instanceof Decoded.Value<? extends Message> v ? v.value() : null);
      }
    }
    return state;
  }

  private Map<String, Long> cachedRevisions(String remote) {
    Map<String, Long> revisions = new HashMap<>();
    KeyLayout cache = KeyLayout.cache(remote);
    for (Kind kind : Kind.values()) {
      list(cache.prefix(kind, remote)).forEach(kv -> revisions.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision()));
    }
    return revisions;
  }

  private List<KeyValue> list(String prefix) {
    try {
      return local.client().getKVClient()
          .get(bytes(prefix), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** {@code expected} (remote state keys) translated into the cache layout of {@code remote}. */
  private static Map<String, Message> inCache(String remote, Map<String, Message> expected) {
    Map<String, Message> translated = new HashMap<>();
    expected.forEach((key, value) -> translated.put(KeyLayout.cache(remote).key(KeyLayout.state().parse(key)), value));
    return translated;
  }

  private boolean cacheCanary(String remote, Kind kind) {
    return localEtcd.get(KeyLayout.cache(remote).syncedKey(remote, kind)).isPresent();
  }

  private String statusLine(String remote) {
    return mirror.status(remote).map(RemoteStatus::status).orElse("");
  }

  private static ByteSequence bytes(String s) {
    return ByteSequence.from(s, StandardCharsets.UTF_8);
  }

  @Test
  void mirrorsEveryKindOfTwoRemotesAndPublishesEachCanaryOnlyAfterTheRemotes() {
    RemoteOperator east = operator(eastEtcd, "east", 2).announce();
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> eastState = east.writeAll(5);
    Map<String, Message> westState = west.writeAll(3);
    east.synced();
    west.synced(Kind.NODES);
    east.writeConfigFile(configDir);
    west.writeConfigFile(configDir, "west"); // no suffix, as in the mounted secret
    startMirror();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(cachedState("east")).isEqualTo(inCache("east", eastState));
      assertThat(cachedState("west")).isEqualTo(inCache("west", westState));
      assertThat(mirror.status("east").orElseThrow().ready()).isTrue();
      assertThat(cacheCanary("west", Kind.NODES)).isTrue();
    });
    // west's other kinds are not synced in west itself, so the mirror must not claim they are.
    assertThat(Arrays.stream(Kind.values()).filter(k -> k != Kind.NODES).map(k -> cacheCanary("west", k))).containsOnly(false);
    assertThat(mirror.status("west").orElseThrow().ready()).isFalse();
    assertThat(mirror.status("west").orElseThrow().syncedKinds()).containsExactly(Kind.NODES);

    west.synced();
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").orElseThrow().ready());
    assertThat(Arrays.stream(Kind.values()).map(k -> cacheCanary("west", k))).containsOnly(true);

    RemoteStatus eastStatus = mirror.status("east").orElseThrow();
    assertThat(eastStatus.id()).isEqualTo(2);
    assertThat(eastStatus.connected()).isTrue();
    assertThat(eastStatus.entries()).containsEntry(Kind.NODES, 5).containsEntry(Kind.IPCACHE, 5);
    assertThat(eastStatus.skippedTotal()).isZero();
    // The cluster-config and heartbeat are mirrored beside the kinds; the certificate files are not remotes.
    assertThat(Codecs.CLUSTER_CONFIG.decode("", localEtcd.get(CacheKeys.clusterConfigKey("east")).orElseThrow()))
        .isEqualTo(new Decoded.Value<>(ClusterConfig.newBuilder().setName("east").setId(2).build()));
    assertThat(localEtcd.get(CacheKeys.heartbeatKey("west"))).isPresent();
    assertThat(mirror.statuses()).extracting(RemoteStatus::name).containsExactly("east", "west");

    assertThat(registry.get("meshwork.kvstoresync.remote.ready").tag("remote", "east").gauge().value()).isEqualTo(1);
    assertThat(registry.get("meshwork.kvstoresync.entries").tag("remote", "west").tag("kind", "services").gauge().value())
        .isEqualTo(3);

    // Live changes follow, and their lag is measured.
    long lagSamples = registry.get("meshwork.kvstoresync.mirror.lag").tag("remote", "east").timer().count();
    Map<String, Message> nodes = east.entries(Kind.NODES, 6);
    String sixth = KeyLayout.state().nodeKey("east", "node-6");
    east.upsert(Kind.NODES, sixth, nodes.get(sixth));
    east.delete(Kind.NODES, KeyLayout.state().nodeKey("east", "node-1"));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cachedState("east"))
        .containsKey(KeyLayout.cache("east").nodeKey("east", "node-6"))
        .doesNotContainKey(KeyLayout.cache("east").nodeKey("east", "node-1")));
    await().atMost(Duration.ofSeconds(5)).until(
        () -> registry.get("meshwork.kvstoresync.mirror.lag").tag("remote", "east").timer().count() >= lagSamples + 2);
  }

  @Test
  void keepsTheMirrorWhileTheRemoteIsDownAndAfterwardsDeletesOnlyWhatWasDeletedMeanwhile() {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> state = west.writeAll(4);
    west.synced();
    west.writeConfigFile(configDir);
    // A slow retry, so that the remote is back and changed before the mirror relists.
    startMirror(Duration.ofMinutes(3), new Backoff(Duration.ofSeconds(3), Duration.ofSeconds(3), 1, 0));
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));
    Map<String, Long> revisions = cachedRevisions("west");

    westEtcd.stop();
    await().atMost(Duration.ofSeconds(10)).until(() -> !mirror.status("west").orElseThrow().connected());
    await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(6)).until(() -> cachedRevisions("west").equals(revisions));
    assertThat(mirror.status("west").orElseThrow().ready()).as("the mirror's canaries stay").isTrue();

    westEtcd.start();
    String deleted = KeyLayout.state().serviceKey("west", "default", "svc-2");
    westEtcd.delete(deleted);
    westEtcd.compact();

    String deletedInCache = KeyLayout.cache("west").serviceKey("west", "default", "svc-2");
    await().atMost(Duration.ofSeconds(20)).until(() -> !cachedState("west").containsKey(deletedInCache));
    Map<String, Long> expected = new HashMap<>(revisions);
    expected.remove(deletedInCache);
    assertThat(cachedRevisions("west")).as("nothing else rewritten").isEqualTo(expected);
    assertThat(state).hasSize(16);
  }

  @Test
  void resyncsAWipedRemoteWithoutDeletingWhatItStillHas() throws Exception {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> state = west.writeAll(4);
    west.synced();
    west.writeConfigFile(configDir);
    startMirror();
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));
    List<String> deletes = new CopyOnWriteArrayList<>();
    try (Watch.Watcher watcher = local.client().getWatchClient().watch(bytes(CacheKeys.mirrorPrefix("west")),
        WatchOption.builder().isPrefix(true).build(), response -> response.getEvents().stream()
            .filter(e -> e.getEventType() == WatchEvent.EventType.DELETE)
            .forEach(e -> deletes.add(e.getKeyValue().getKey().toString(StandardCharsets.UTF_8))))) {
      westEtcd.wipe();
      // While the remote is empty its operator drops one service; it rewrites the rest after the wipe.
      String dropped = KeyLayout.state().serviceKey("west", "default", "svc-1");
      west.delete(Kind.SERVICES, dropped);
      west.announce();
      await().atMost(Duration.ofSeconds(30)).until(() -> !cachedState("west").containsKey(KeyLayout.cache("west").key(KeyLayout.state().parse(dropped))));

      Map<String, Message> expected = new HashMap<>(state);
      expected.remove(dropped);
      assertThat(cachedState("west")).isEqualTo(inCache("west", expected));
      assertThat(deletes).as("only the dropped service was deleted").containsExactly(
          KeyLayout.cache("west").key(KeyLayout.state().parse(dropped)));
    }
  }

  @Test
  void drainsARemovedRemoteAfterTheGracePeriodOnly() throws Exception {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    west.writeAll(2);
    west.synced();
    Path file = west.writeConfigFile(configDir);
    startMirror(Duration.ofSeconds(3), new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0));
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));

    Files.delete(file);
    await().atMost(Duration.ofSeconds(5)).until(() -> statusLine("west").startsWith("config file removed"));
    assertThat(cachedState("west")).as("kept during the grace period").hasSize(8);

    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(list(CacheKeys.mirrorPrefix("west"))).isEmpty();
      assertThat(mirror.status("west")).isEmpty();
    });
  }

  @Test
  void drainsTheMirrorOfARemoteRemovedWhileKvstoreSyncWasDown() {
    // Left by an earlier run: "gone" has no config file any more, "west" still has one.
    localEtcd.put(KeyLayout.cache("gone").nodeKey("gone", "n1"), "x");
    localEtcd.put(CacheKeys.clusterConfigKey("gone"), "x");
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> state = west.writeAll(1);
    west.synced();
    west.writeConfigFile(configDir);
    localEtcd.put(KeyLayout.cache("west").nodeKey("west", "stale"), "x");
    startMirror(Duration.ofSeconds(2), new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0));

    await().atMost(Duration.ofSeconds(5)).until(() -> statusLine("gone").startsWith("no config file; draining"));
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
      assertThat(list(CacheKeys.mirrorPrefix("gone"))).isEmpty();
      assertThat(mirror.status("gone")).isEmpty();
      assertThat(cachedState("west")).isEqualTo(inCache("west", state));
    });
  }

  @Test
  void keepsARunningMirrorWhenItsFileBreaksAndReportsBadFiles() throws Exception {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    west.writeAll(1);
    west.synced();
    Path file = west.writeConfigFile(configDir);
    Files.writeString(configDir.resolve("north.yaml"), "endpoints: []\n");
    Files.writeString(configDir.resolve("local.yaml"), "endpoints: [http://127.0.0.1:9]\n"); // ourselves: not a remote
    startMirror();
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));
    assertThat(statusLine("north")).startsWith("invalid config file: ").contains("north.yaml", "'endpoints' is empty");
    assertThat(mirror.status("local")).isEmpty();

    Files.writeString(file, "endpoints: [not a url\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> statusLine("west").contains("keeping the running mirror"));
    assertThat(mirror.status("west").orElseThrow().ready()).isTrue();
    assertThat(cachedState("west")).hasSize(4);
  }

  @Test
  void reconnectsWhenItsFileChangesAndKeepsTheMirrorComplete() throws Exception {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> state = west.writeAll(2);
    west.synced();
    Path file = west.writeConfigFile(configDir);
    startMirror();
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));
    RemoteMirror before = mirror.mirror("west").orElseThrow();

    Files.writeString(file, "endpoints:\n- " + westEtcd.endpoint().replace("127.0.0.1", "localhost") + "\n");
    await().atMost(Duration.ofSeconds(5)).until(() -> mirror.mirror("west").orElseThrow() != before);
    assertThat(mirror.mirror("west").orElseThrow().config().endpoints().getFirst().getHost()).isEqualTo("localhost");
    String added = KeyLayout.state().nodeKey("west", "node-3");
    west.upsert(Kind.NODES, added, west.entries(Kind.NODES, 3).get(added));

    Map<String, Message> expected = new HashMap<>(state);
    expected.put(added, west.entries(Kind.NODES, 3).get(added));
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(mirror.status("west").orElseThrow().ready()).isTrue();
      assertThat(cachedState("west")).isEqualTo(inCache("west", expected));
    });
  }

  @Test
  void refusesRemotesWhoseClusterConfigConflicts() {
    RemoteOperator east = operator(eastEtcd, "east", 2).announce();
    east.writeAll(1);
    east.synced();
    east.writeConfigFile(configDir);
    startMirror();
    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("east").map(RemoteStatus::ready).orElse(false));
    // west claims east's id.
    RemoteOperator west = operator(westEtcd, "west", 2).announce();
    west.writeConfigFile(configDir);

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(statusLine("west")).isEqualTo("refused: cluster id 2 is also used by east");
    });
    assertThat(mirror.status("west").orElseThrow().id()).isZero();
    assertThat(mirror.status("west").orElseThrow().ready()).isFalse();
    assertThat(list(CacheKeys.mirrorPrefix("west"))).isEmpty();

    west.announce("west", LOCAL_ID);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusLine("west")
        .equals("refused: cluster id 1 is our own (cluster local)"));
    west.announce("south", 4);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusLine("west")
        .equals("refused: its cluster-config names cluster 'south', but the config file west.yaml is for 'west'"));
    west.announce("west", 0);
    await().atMost(Duration.ofSeconds(10)).until(() -> statusLine("west")
        .equals("refused: cluster id 0 is outside 1..255"));

    west.announce("west", 4);
    await().atMost(Duration.ofSeconds(10)).until(() -> mirror.status("west").orElseThrow().id() == 4);
  }

  @Test
  void skipsAndCountsCorruptValuesAndEntriesOfAnotherCluster() {
    RemoteOperator west = operator(westEtcd, "west", 3).announce();
    Map<String, Message> good = west.writeAll(2);
    west.synced();
    await().atMost(Duration.ofSeconds(10)).until(west::allCanariesWritten);
    westEtcd.put(KeyLayout.state().nodeKey("west", "garbage"), new byte[] {(byte) 0xff, 0x01, 0x02});
    westEtcd.put(KeyLayout.state().nodeKey("west", "intruder"),
        Codecs.NODE.encode(Node.newBuilder().setCluster("east").setName("intruder").setClusterId(2).build()));
    westEtcd.put(KeyLayout.state().identityKey("west", 2L << 16 | 300),
        Codecs.IDENTITY.encode(dev.meshwork.proto.v1.Identity.newBuilder().setId(2 << 16 | 300).setCluster("west").build()));
    westEtcd.put(KeyLayout.state().prefix(Kind.NODES, "west") + "a/b", "x");
    // In west's etcd but in east's folder: read (the mirror watches the whole kind), refused, counted.
    westEtcd.put(KeyLayout.state().nodeKey("east", "planted"),
        Codecs.NODE.encode(Node.newBuilder().setCluster("east").setName("planted").setClusterId(2).build()));
    west.writeConfigFile(configDir);
    startMirror();

    await().atMost(Duration.ofSeconds(20)).until(() -> mirror.status("west").map(RemoteStatus::ready).orElse(false));
    RemoteStatus status = mirror.status("west").orElseThrow();
    assertThat(status.skipped()).containsEntry(Kind.NODES, 4L).containsEntry(Kind.IDENTITIES, 1L);
    assertThat(cachedState("west")).isEqualTo(inCache("west", good));
    assertThat(list(KeyLayout.cache("west").prefix(Kind.NODES, "east"))).as("east's folder in west's mirror").isEmpty();
  }
}
