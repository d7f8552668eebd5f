package dev.meshwork.testing.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.testing.process.CommandResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class EtcdExtensionIT {
  @RegisterExtension static final EtcdExtension etcd = EtcdExtension.plain();
  @RegisterExtension static final EtcdExtension second = EtcdExtension.plain();

  @Test
  void servesPlainEtcdOnLoopback() {
    assertThat(etcd.endpoint()).matches("http://127\\.0\\.0\\.1:\\d+");
    assertThat(etcd.endpoints()).containsExactly(etcd.endpoint());
    assertThat(etcd.tlsFiles()).isEmpty();

    assertThat(etcd.etcdctl("put", "plain/key", "hello").output()).isEqualTo("OK");

    assertThat(etcd.etcdctl("get", "plain/key", "--print-value-only").output()).isEqualTo("hello");
    assertThat(etcd.get("plain/key")).hasValueSatisfying(value -> assertThat(new String(value)).isEqualTo("hello"));
  }

  @Test
  void portIsBelowTheEphemeralRangeSoNoOutgoingConnectionTakesItWhileStopped() throws Exception {
    int ephemeralStart = Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).getFirst().trim().split("\\s+")[0]);

    assertThat(etcd.clientPort()).isLessThan(ephemeralStart);
    assertThat(second.clientPort()).isLessThan(ephemeralStart);
  }

  @Test
  void directPutGetAndDeleteRoundTripBinaryValues() {
    byte[] value = {0, (byte) 0xff, 42, '\n'};
    long revision = etcd.put("direct/binary", value);

    assertThat(revision).isEqualTo(etcd.revision());
    assertThat(etcd.get("direct/binary")).hasValueSatisfying(read -> assertThat(read).isEqualTo(value));
    etcd.put("direct/empty", new byte[0]);
    assertThat(etcd.get("direct/empty")).hasValueSatisfying(read -> assertThat(read).isEmpty());

    etcd.delete("direct/binary");
    assertThat(etcd.get("direct/binary")).isEmpty();
  }

  @Test
  void twoExtensionsInOneClassAreSeparateClusters() {
    assertThat(second.clientPort()).isNotEqualTo(etcd.clientPort());
    assertThat(second.name()).isNotEqualTo(etcd.name());
    assertThat(second.dataDir()).isNotEqualTo(etcd.dataDir());
    assertThat(second.pid()).isNotEqualTo(etcd.pid());
    assertThat(second.clusterId()).isNotEqualTo(etcd.clusterId());

    etcd.put("separate/key", "only-in-first");
    assertThat(second.get("separate/key")).isEmpty();
  }

  @Test
  void stopEndsTheProcessAndStartKeepsDataPortAndClusterId() {
    etcd.put("durable/key", "kept");
    String endpoint = etcd.endpoint();
    long clusterId = etcd.clusterId();
    long pid = etcd.pid();

    etcd.stop();

    assertThat(etcd.isRunning()).isFalse();
    assertThat(ProcessHandle.of(pid)).isEmpty();
    assertThat(etcd.etcdctl("--dial-timeout=300ms", "--command-timeout=500ms", "get", "durable/key").succeeded()).isFalse();

    etcd.start();

    assertThat(etcd.endpoint()).isEqualTo(endpoint);
    assertThat(etcd.clusterId()).isEqualTo(clusterId);
    assertThat(etcd.pid()).isNotEqualTo(pid);
    assertThat(etcd.get("durable/key")).hasValueSatisfying(value -> assertThat(new String(value)).isEqualTo("kept"));
  }

  @Test
  void restartKeepsData() {
    etcd.put("restart/key", "kept");
    long revision = etcd.revision();

    etcd.restart();

    assertThat(etcd.revision()).isEqualTo(revision);
    assertThat(etcd.get("restart/key")).isPresent();
  }

  @Test
  void killIsACrashThatKeepsData() {
    etcd.put("crash/key", "kept");
    long pid = etcd.pid();

    etcd.kill();

    assertThat(ProcessHandle.of(pid)).isEmpty();
    etcd.start();
    assertThat(etcd.get("crash/key")).isPresent();
  }

  @Test
  void wipeEmptiesTheStoreAndMakesANewClusterOnTheSamePort() {
    second.put("wiped/key", "gone soon");
    String endpoint = second.endpoint();
    long clusterId = second.clusterId();
    long revisionBefore = second.revision();

    second.wipe();

    assertThat(second.endpoint()).isEqualTo(endpoint);
    assertThat(second.get("wiped/key")).isEmpty();
    assertThat(second.clusterId()).isNotEqualTo(clusterId);
    assertThat(second.revision()).isLessThan(revisionBefore).isEqualTo(1);
  }

  @Test
  void compactDropsHistoryUpToTheCurrentRevision() {
    long first = etcd.put("compact/key", "v1");
    etcd.put("compact/key", "v2");

    long compacted = etcd.compact();

    assertThat(compacted).isEqualTo(etcd.revision());
    CommandResult old = etcd.etcdctl("get", "compact/key", "--rev=" + first);
    assertThat(old.succeeded()).isFalse();
    assertThat(old.stderr()).contains("required revision has been compacted");
    assertThat(etcd.etcdctl("get", "compact/key", "--print-value-only").output()).isEqualTo("v2");
    // compacting again at the same revision is harmless
    assertThat(etcd.compact()).isEqualTo(compacted);
  }

  @Test
  void logFileRecordsTheProcessOutput() throws Exception {
    assertThat(etcd.logFile()).exists();
    assertThat(Files.readString(etcd.logFile())).contains("starting etcd " + etcd.name());
  }

  @Test
  void closeEndsTheProcessAndDeletesTheTempDirectory() {
    EtcdExtension standalone = EtcdExtension.plain();
    standalone.start();
    long pid = standalone.pid();
    Path dataDir = standalone.dataDir();
    Optional<ProcessHandle> handle = ProcessHandle.of(pid);
    assertThat(handle).isPresent();
    assertThat(handle.get().info().command()).hasValue("/usr/bin/etcd");

    standalone.close();

    assertThat(ProcessHandle.of(pid)).isEmpty();
    assertThat(dataDir.getParent()).doesNotExist();
    assertThatThrownBy(standalone::pid).hasMessageContaining("not running");
  }

  @Test
  void extraFlagsReachEtcd() {
    try (EtcdExtension limited = EtcdExtension.plain().withArgs("--max-request-bytes=512")) {
      limited.start();

      limited.put("small", "fits");
      assertThatThrownBy(() -> limited.put("large", "x".repeat(4096)))
          .hasMessageContaining("request is too large");
    }
  }

  @Test
  void pausedEtcdKeepsItsPortButAnswersNothingUntilResumed() {
    etcd.put("paused/key", "v");

    etcd.pause();
    try {
      assertThat(etcd.isPaused()).isTrue();
      CommandResult hung = etcd.etcdctl("--command-timeout=300ms", "get", "paused/key");
      assertThat(hung.succeeded()).isFalse();
      assertThat(hung.stderr()).contains("deadline exceeded");
    } finally {
      etcd.resume();
    }

    assertThat(etcd.get("paused/key")).isPresent();
  }

  @Test
  void stopEndsEvenAPausedEtcd() {
    try (EtcdExtension frozen = EtcdExtension.plain()) {
      frozen.start();
      long pid = frozen.pid();
      frozen.pause();

      frozen.stop();

      assertThat(ProcessHandle.of(pid)).isEmpty();
    }
  }
}
