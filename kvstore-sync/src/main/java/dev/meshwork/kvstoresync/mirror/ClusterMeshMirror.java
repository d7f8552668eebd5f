package dev.meshwork.kvstoresync.mirror;

import dev.meshwork.common.cluster.ClusterName;
import dev.meshwork.kvstore.etcd.EtcdConnection;
import dev.meshwork.kvstore.etcd.InvalidConfigException;
import dev.meshwork.kvstore.etcd.RemoteClusterConfig;
import dev.meshwork.kvstore.key.KeyLayout;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.OptionsUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one {@link RemoteMirror} per remote cluster config file in the clustermesh directory.
 *
 * <p>The directory is the mounted clustermesh secret: one file per remote named after it ({@code
 * .yaml}/{@code .yml} optional), next to certificate files such as {@code
 * <remote>.etcd-client.crt} and Kubernetes' {@code ..data} links. Files whose name (without the
 * YAML suffix) is not a cluster name, hidden files and our own cluster's file are skipped.
 *
 * <p>Every scan: a new file starts a mirror; a changed file (endpoints or certificate paths)
 * replaces the mirror, which takes the mirrored keys over; a file that no longer parses keeps the
 * running mirror and reports the error; a removed file stops the remote's watches at once and
 * drains its mirror after the grace period, unless the file comes back first. Changed certificate
 * contents are picked up by the connections themselves.
 */
public final class ClusterMeshMirror implements AutoCloseable, RemoteMirror.IdClaims {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterMeshMirror.class);

  private final Path directory;
  private final EtcdConnection local;
  private final MirrorSettings settings;
  private final ScheduledExecutorService executor;
  private final Map<String, Integer> claimedIds = new HashMap<>();

  // Confined to the executor thread; statuses are published through the map below.
  private final Map<String, RemoteMirror> mirrors = new HashMap<>();
  private final Map<String, Instant> removedAt = new HashMap<>();
  private final Map<String, String> invalid = new ConcurrentHashMap<>();
  private final Map<String, RemoteMirror> published = new ConcurrentHashMap<>();
  // Mirrors left in the local etcd by an earlier run for remotes that have no config file now.
  private final Map<String, Instant> orphans = new ConcurrentHashMap<>();
  private boolean orphansListed;
  private volatile boolean closed;

  public ClusterMeshMirror(Path directory, EtcdConnection local, MirrorSettings settings) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.local = Objects.requireNonNull(local, "local");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "kvstore-sync clustermesh-config");
      t.setDaemon(true);
      return t;
    });
  }

  /** Scans the directory now and then every scan interval. */
  public void start() {
    long every = settings.scanInterval().toMillis();
    executor.scheduleWithFixedDelay(this::scanSafely, 0, every, TimeUnit.MILLISECONDS);
  }

  /** The status of every remote known now (mirrored, refused, draining or with a bad file), by name. */
  public List<RemoteStatus> statuses() {
    List<RemoteStatus> all = new ArrayList<>();
    Set<String> names = new HashSet<>(published.keySet());
    published.values().forEach(m -> all.add(m.status()));
    orphans.forEach((name, since) -> {
      if (!names.contains(name)) {
        String line = "no config file; draining the mirror left by an earlier run at " + since.plus(settings.drainGrace());
        all.add(new RemoteStatus(name, 0, false, false, Map.of(), Map.of(), 0, "", 0, line, List.of(), 0));
        names.add(name);
      }
    });
    invalid.forEach((name, why) -> {
      if (!names.contains(name)) {
        all.add(new RemoteStatus(name, 0, false, false, Map.of(), Map.of(), 0, why, settings.clock().millis(), why,
            List.of(), 0));
      }
    });
    all.sort(Comparator.comparing(RemoteStatus::name));
    return all;
  }

  /** The status of {@code remote}, if it is known. */
  public Optional<RemoteStatus> status(String remote) {
    return statuses().stream().filter(s -> s.name().equals(remote)).findFirst();
  }

  /** The running mirror of {@code remote}, if any (benchmarks read its lag timer). */
  public Optional<RemoteMirror> mirror(String remote) {
    return Optional.ofNullable(published.get(remote));
  }

  @Override
  public synchronized Optional<String> claim(String remote, int id) {
    for (Map.Entry<String, Integer> e : claimedIds.entrySet()) {
      if (e.getValue() == id && !e.getKey().equals(remote)) {
        return Optional.of("cluster id " + id + " is also used by " + e.getKey());
      }
    }
    claimedIds.put(remote, id);
    return Optional.empty();
  }

  @Override
  public synchronized void release(String remote) {
    claimedIds.remove(remote);
  }

  // ---- the scan (executor thread) ----

  private void scanSafely() {
    try {
      scan();
    } catch (RuntimeException e) {
      LOG.error("scanning {} failed", directory, e);
    }
  }

  private void scan() {
    if (closed) {
      return;
    }
    Map<String, Path> files = listConfigFiles();
    for (Map.Entry<String, Path> file : files.entrySet()) {
      String remote = file.getKey();
      RemoteClusterConfig config;
      try {
        config = RemoteClusterConfig.load(file.getValue());
      } catch (InvalidConfigException e) {
        RemoteMirror running = mirrors.get(remote);
        String why = "invalid config file: " + e.getMessage();
        if (running != null) {
          running.status(why + "; keeping the running mirror");
        } else if (!why.equals(invalid.put(remote, why))) {
          LOG.warn("remote {}: {}", remote, why);
        }
        continue;
      }
      invalid.remove(remote);
      if (removedAt.remove(remote) != null) {
        LOG.info("remote {}: config file is back; mirroring again", remote);
        replace(remote, config);
        continue;
      }
      RemoteMirror running = mirrors.get(remote);
      if (running == null) {
        LOG.info("remote {}: new config file {}", remote, config.source());
        replace(remote, config);
      } else if (!running.config().equals(config)) {
        LOG.info("remote {}: config file changed; reconnecting", remote);
        replace(remote, config);
      } else if (running.restartRequested()) {
        replace(remote, config);
      } else {
        running.reloadCertificates();
      }
    }
    invalid.keySet().removeIf(name -> !files.containsKey(name));
    Instant now = settings.clock().instant();
    drainOrphans(files.keySet(), now);
    for (String remote : List.copyOf(mirrors.keySet())) {
      if (files.containsKey(remote)) {
        continue;
      }
      RemoteMirror mirror = mirrors.get(remote);
      Instant since = removedAt.get(remote);
      if (since == null) {
        removedAt.put(remote, now);
        Instant deadline = now.plus(settings.drainGrace());
        LOG.info("remote {}: config file removed; keeping its mirror until {}", remote, deadline);
        mirror.stopWatching();
        mirror.status("config file removed; draining the mirror at " + deadline);
      } else if (!now.isBefore(since.plus(settings.drainGrace()))) {
        try {
          mirror.drain();
        } catch (Exception e) {
          mirror.status("draining failed, retrying: " + e);
          LOG.warn("remote {}: draining the mirror failed, retrying: {}", remote, e.toString());
          continue;
        }
        mirrors.remove(remote);
        published.remove(remote);
        removedAt.remove(remote);
      }
    }
  }

  /**
   * Finds, once, the remotes mirrored in the local etcd by an earlier run (removed from the
   * directory while kvstore-sync was down) and drains them after the grace period, unless their
   * file comes back.
   */
  private void drainOrphans(Set<String> configured, Instant now) {
    if (!orphansListed) {
      try {
        for (String remote : mirroredRemotes()) {
          if (!configured.contains(remote)) {
            LOG.info("remote {}: mirrored by an earlier run but has no config file; draining it at {}", remote,
                now.plus(settings.drainGrace()));
            orphans.put(remote, now);
          }
        }
        orphansListed = true;
      } catch (Exception e) {
        LOG.warn("cannot list the mirrors in the local etcd, retrying: {}", e.toString());
        return;
      }
    }
    for (Map.Entry<String, Instant> orphan : List.copyOf(orphans.entrySet())) {
      String remote = orphan.getKey();
      if (configured.contains(remote)) {
        orphans.remove(remote); // its new mirror takes the keys over
      } else if (!now.isBefore(orphan.getValue().plus(settings.drainGrace()))) {
        try {
          RemoteMirror.deleteMirror(local, remote);
          orphans.remove(remote);
        } catch (Exception e) {
          LOG.warn("remote {}: draining the mirror failed, retrying: {}", remote, e.toString());
        }
      }
    }
  }

  /** The remote names under {@code meshwork/v1/cache/} in the local etcd (keys only, in pages). */
  private Set<String> mirroredRemotes() throws Exception {
    String root = KeyLayout.ROOT + "cache/";
    Set<String> remotes = new HashSet<>();
    ByteSequence from = ByteSequence.from(root, StandardCharsets.UTF_8);
    ByteSequence end = OptionsUtil.prefixEndOf(from);
    while (true) {
      var response = local.client().getKVClient()
          .get(from, GetOption.builder().withRange(end).withKeysOnly(true).withLimit(10_000).build())
          .get(30, TimeUnit.SECONDS);
      String after = null;
      for (KeyValue kv : response.getKvs()) {
        String rest = kv.getKey().toString(StandardCharsets.UTF_8).substring(root.length());
        int slash = rest.indexOf('/');
        String remote = slash < 0 ? rest : rest.substring(0, slash);
        after = ClusterName.isValid(remote) ? remote : null;
        if (after != null) {
          remotes.add(remote);
        }
      }
      if (!response.isMore() || response.getKvs().isEmpty()) {
        return remotes;
      }
      // The next page starts after the last remote seen (its other keys need not be listed).
      from = after != null
          ? OptionsUtil.prefixEndOf(ByteSequence.from(root + after + "/", StandardCharsets.UTF_8))
          : response.getKvs().getLast().getKey().concat(ByteSequence.from(new byte[] {0}));
    }
  }

  private void replace(String remote, RemoteClusterConfig config) {
    RemoteMirror old = mirrors.remove(remote);
    if (old != null) {
      old.close();
    }
    RemoteMirror mirror = new RemoteMirror(config, local, settings, this);
    mirrors.put(remote, mirror);
    published.put(remote, mirror);
    mirror.start();
  }

  /** Cluster name → file, for every file that may be a remote cluster config. */
  private Map<String, Path> listConfigFiles() {
    Map<String, Path> files = new HashMap<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory)) {
      for (Path path : stream) {
        String fileName = path.getFileName().toString();
        String cluster = fileName.replaceFirst("\\.(yaml|yml)$", "");
        // Certificates beside the configs (c1.etcd-client.crt) and ..data links are not cluster names.
        if (fileName.startsWith(".") || !ClusterName.isValid(cluster) || !Files.isRegularFile(path)) {
          continue;
        }
        if (cluster.equals(settings.clusterName().value())) {
          continue; // our own cluster is not a remote
        }
        Path previous = files.putIfAbsent(cluster, path);
        if (previous != null) {
          invalid.put(cluster, "two config files for one cluster: " + previous.getFileName() + " and " + fileName);
        }
      }
    } catch (NoSuchFileException e) {
      LOG.debug("clustermesh config directory {} does not exist (yet)", directory);
    } catch (IOException e) {
      LOG.warn("cannot list the clustermesh config directory {}: {}", directory, e.toString());
      // Unknown is not empty: keep every mirror as it is.
      mirrors.keySet().forEach(name -> files.put(name, mirrors.get(name).config().source()));
    }
    return files;
  }

  @Override
  public void close() {
    closed = true;
    executor.shutdownNow();
    try {
      executor.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    mirrors.values().forEach(RemoteMirror::close);
    mirrors.clear();
    published.clear();
  }
}
