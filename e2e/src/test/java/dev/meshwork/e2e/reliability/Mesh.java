package dev.meshwork.e2e.reliability;

import dev.meshwork.agent.clustermesh.ClusterMesh;
import dev.meshwork.common.backoff.Backoff;
import dev.meshwork.common.cluster.ClusterId;
import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.etcd.EtcdClients;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstoresync.mirror.ClusterMeshMirror;
import dev.meshwork.kvstoresync.mirror.MirrorSettings;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.time.Duration;
import java.time.InstantSource;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.datapath.L4Address;
import dev.meshwork.datapath.Protocol;
import dev.meshwork.testing.etcd.EtcdExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The mesh of one test: k8s-test-cluster (id 1) whose agent is observed, with the global service
 * {@code testing/backend-svc} on 172.20.17.66 and no local backend, and remote clusters exporting
 * backends for it. Each etcd's {@code meshwork/} keys are cleared first, so class-wide etcds can
 * be shared by the tests of a class.
 */
final class Mesh implements AutoCloseable {
  static final String LOCAL = "k8s-test-cluster";
  static final L4Address FRONTEND = new L4Address(Ipv4.parse("172.20.17.66"), 80, Protocol.TCP);

  final Path dir;
  final Path agentDir;
  final Path mirrorDir;
  final RemoteCluster local;
  final Path localConfig;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  Mesh(Path dir, EtcdExtension localEtcd) throws Exception {
    this.dir = dir;
    this.agentDir = Files.createDirectories(dir.resolve("agent-clustermesh"));
    this.mirrorDir = Files.createDirectories(dir.resolve("kvstore-sync-clustermesh"));
    clear(localEtcd);
    local = track(new RemoteCluster(localEtcd, LOCAL, 1, 1, "172.20.17.66"));
    local.populate(1, 0);
    localConfig = local.writeConfigFile(Files.createDirectories(dir.resolve("local")));
  }

  static void clear(EtcdExtension etcd) {
    if (!etcd.isRunning()) etcd.start();
    etcd.etcdctl("del", "--prefix", "meshwork/").orThrow();
  }

  /** A remote cluster with {@code nodes} × {@code podsPerNode} backends, listed in the agent's directory. */
  RemoteCluster remote(EtcdExtension etcd, String name, int id, int nodes, int podsPerNode) throws Exception {
    clear(etcd);
    RemoteCluster remote = track(new RemoteCluster(etcd, name, id, id, "172.2" + id + ".0.1"));
    remote.populate(nodes, podsPerNode);
    remote.writeConfigFile(agentDir);
    remote.writeConfigFile(mirrorDir);
    return remote;
  }

  /** k8s-test-cluster's kvstore-sync, in process: the production {@link ClusterMeshMirror} with short timings. */
  ClusterMeshMirror mirror(MeterRegistry registry) {
    EtcdConnection connection = track(EtcdConnection.of("local etcd of kvstore-sync",
        EtcdClients.plain(List.of(URI.create(local.etcd.endpoint())))));
    MirrorSettings settings = new MirrorSettings(ClusterName.of(LOCAL), ClusterId.of(1), Duration.ofMinutes(3),
        Duration.ofMillis(200), new Backoff(Duration.ofMillis(200), Duration.ofSeconds(1), 2, 0), Duration.ofMillis(300),
        10_000, registry, InstantSource.system());
    ClusterMeshMirror mirror = track(new ClusterMeshMirror(mirrorDir, connection, settings));
    mirror.start();
    return mirror;
  }

  InProcessAgent agent(ClusterMesh.Source source) throws Exception {
    return track(new InProcessAgent(LOCAL, 1, LOCAL + "-node-1", localConfig, agentDir, source));
  }

  <T extends AutoCloseable> T track(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  /** Every backend the remotes export, which the local frontend must program. */
  static SortedSet<String> expected(RemoteCluster... remotes) {
    SortedSet<String> all = new TreeSet<>();
    for (RemoteCluster r : remotes) all.addAll(r.expectedBackends());
    return all;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : closeables.reversed()) {
      c.close();
    }
  }
}
