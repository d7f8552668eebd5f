package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import dev.meshwork.testing.tls.IssuedCertificate;
import dev.meshwork.testing.tls.TestCertificates;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * files/etcd-start.sh, the command of every etcd member in the StatefulSet, running three real
 * etcd 3.4 members on loopback (MEMBERS instead of the StatefulSet's DNS names): a new cluster
 * forms, and a member that lost its emptyDir rejoins under a new member id and catches up.
 */
class EtcdMemberStartIT {
  private static final Path SCRIPT = MeshworkChartTest.ChartFiles.path("etcd-start.sh");
  private static final int MEMBER_COUNT = 3;

  @TempDir Path temp;
  private final List<Member> members = new ArrayList<>();
  private final Process[] processes = new Process[MEMBER_COUNT];
  private Path tlsDir;
  private Path adminDir;
  private String membersSetting;

  private record Member(String name, int clientPort, int peerPort, int metricsPort) {
    String clientUrl() {
      return "https://127.0.0.1:" + clientPort;
    }
  }

  @BeforeEach
  void certificatesAndPorts() throws IOException {
    TestCertificates ca = TestCertificates.create(temp.resolve("ca"), "meshwork-etcd-ca");
    tlsDir = tlsDirectory("tls", ca, ca.server("meshwork-etcd"));
    adminDir = tlsDirectory("admin", ca, ca.client("root"));
    Set<Integer> ports = new HashSet<>();
    while (ports.size() < 3 * MEMBER_COUNT) {
      ports.add(freePort());
    }
    List<Integer> free = new ArrayList<>(ports);
    for (int i = 0; i < MEMBER_COUNT; i++) {
      members.add(new Member("meshwork-etcd-" + i, free.get(3 * i), free.get(3 * i + 1), free.get(3 * i + 2)));
    }
    membersSetting = members.stream()
        .map(m -> m.name() + "=127.0.0.1:" + m.clientPort() + ":" + m.peerPort())
        .collect(Collectors.joining(" "));
  }

  @AfterEach
  void stopMembers() throws InterruptedException {
    for (Process process : processes) {
      if (process != null) {
        process.destroyForcibly();
        process.waitFor();
      }
    }
  }

  @Test
  void membersStartingTogetherFormANewCluster() {
    for (int i = 0; i < MEMBER_COUNT; i++) {
      start(i);
    }

    awaitHealthy();
    assertThat(memberList()).hasSize(3).allMatch(line -> line.contains(", started, "));
    assertThat(log(0)).contains("etcd-start: meshwork-etcd-0 joining as new cluster");
  }

  @Test
  void followerThatLostItsDataRejoinsUnderANewIdAndCatchesUp() throws Exception {
    startAllAndWrite();
    int follower = members.indexOf(members.stream().filter(m -> !m.name().equals(leaderName())).findFirst().orElseThrow());

    loseDataAndRestart(follower);

    assertRejoinedAndCaughtUp(follower);
  }

  /**
   * The leader's loss leaves the others without a leader for an election timeout: the restarted
   * member's first remove can be refused ("raft proposal dropped"), and the script retries it.
   */
  @Test
  void leaderThatLostItsDataRejoinsUnderANewIdAndCatchesUp() throws Exception {
    startAllAndWrite();
    int leader = members.indexOf(members.stream().filter(m -> m.name().equals(leaderName())).findFirst().orElseThrow());

    loseDataAndRestart(leader);

    assertRejoinedAndCaughtUp(leader);
  }

  private String oldId;

  private void startAllAndWrite() {
    for (int i = 0; i < MEMBER_COUNT; i++) {
      start(i);
    }
    awaitHealthy();
    etcdctl(members.get(0).clientUrl(), "put", "meshwork/v1/cluster-config/k8s-test-cluster", "config").orThrow();
  }

  private void loseDataAndRestart(int index) throws Exception {
    oldId = memberId(members.get(index).name());
    processes[index].destroyForcibly();
    processes[index].waitFor();
    deleteRecursively(dataDir(index)); // an emptyDir does not survive the pod
    start(index);
  }

  private void assertRejoinedAndCaughtUp(int index) {
    String name = members.get(index).name();
    awaitHealthy();
    // what the script did (a retried remove or add shows here), for the test's output
    log(index).lines().filter(line -> line.startsWith("etcd-start:") || line.startsWith("Error:"))
        .forEach(line -> System.out.println(name + ": " + line));
    assertThat(log(index)).contains("etcd-start: " + name + " lost its data; replacing member " + oldId,
        "etcd-start: " + name + " joining as existing cluster");
    assertThat(memberId(name)).isNotEqualTo(oldId);
    assertThat(memberList()).hasSize(3).allMatch(line -> line.contains(", started, "));
    // a serializable read is answered from the member's own copy of the data
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
        etcdctl(members.get(index).clientUrl(), "get", "meshwork/v1/cluster-config/k8s-test-cluster", "--consistency=s", "--print-value-only")
            .orThrow().stdout().strip()).isEqualTo("config"));
  }

  /** The member that `endpoint status` reports as the leader ("endpoint, id, version, size, is leader, ..."). */
  private String leaderName() {
    String all = members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
    String leaderUrl = etcdctl(all, "endpoint", "status").orThrow().stdout().lines()
        .filter(line -> line.split(", ")[4].equals("true")).map(line -> line.split(", ")[0])
        .findFirst().orElseThrow(() -> new AssertionError("no leader among " + all));
    return members.stream().filter(m -> m.clientUrl().equals(leaderUrl)).findFirst().orElseThrow().name();
  }

  @Test
  void memberRestartingWithItsDataKeepsItsId() throws Exception {
    for (int i = 0; i < MEMBER_COUNT; i++) {
      start(i);
    }
    awaitHealthy();
    String id = memberId("meshwork-etcd-1");

    processes[1].destroyForcibly();
    processes[1].waitFor();
    start(1);

    awaitHealthy();
    assertThat(memberId("meshwork-etcd-1")).isEqualTo(id);
    assertThat(log(1)).doesNotContain("lost its data");
  }

  private void start(int index) {
    Member member = members.get(index);
    ProcessBuilder builder = new ProcessBuilder("/bin/sh", SCRIPT.toString())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(index).toFile()));
    builder.environment().keySet().removeIf(name -> name.startsWith("ETCD"));
    builder.environment().put("POD_NAME", member.name());
    builder.environment().put("CLUSTER_TOKEN", "meshwork-k8s-test-cluster");
    builder.environment().put("MEMBERS", membersSetting);
    builder.environment().put("DATA_DIR", dataDir(index).toString());
    builder.environment().put("TLS_DIR", tlsDir.toString());
    builder.environment().put("ADMIN_TLS_DIR", adminDir.toString());
    builder.environment().put("METRICS_PORT", Integer.toString(member.metricsPort()));
    try {
      processes[index] = builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + SCRIPT, e);
    }
  }

  private void awaitHealthy() {
    String all = members.stream().map(Member::clientUrl).collect(Collectors.joining(","));
    await().atMost(Duration.ofSeconds(40)).pollInterval(Duration.ofMillis(200))
        .untilAsserted(() -> assertThat(etcdctl(all, "endpoint", "health").exitCode())
            .as("etcd members healthy; logs:\n%s\n%s\n%s", log(0), log(1), log(2)).isZero());
  }

  private List<String> memberList() {
    return etcdctl(members.get(0).clientUrl(), "member", "list").orThrow().stdout().lines().toList();
  }

  private String memberId(String name) {
    return memberList().stream().filter(line -> line.contains(", " + name + ", ")).map(line -> line.substring(0, line.indexOf(',')))
        .findFirst().orElseThrow(() -> new AssertionError("no member " + name + " in " + memberList()));
  }

  private CommandResult etcdctl(String endpoints, String... args) {
    List<String> command = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints=" + endpoints, "--command-timeout=5s",
        "--cacert=" + adminDir.resolve("ca.crt"), "--cert=" + adminDir.resolve("tls.crt"), "--key=" + adminDir.resolve("tls.key")));
    command.addAll(List.of(args));
    return Command.run(command, Duration.ofSeconds(20));
  }

  private Path dataDir(int index) {
    return temp.resolve("data-" + index);
  }

  private Path logFile(int index) {
    return temp.resolve("member-" + index + ".log");
  }

  private String log(int index) {
    try {
      return Files.exists(logFile(index)) ? Files.readString(logFile(index)) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The layout of a kubernetes.io/tls Secret with ca.crt, as the pod mounts it. */
  private Path tlsDirectory(String name, TestCertificates ca, IssuedCertificate certificate) throws IOException {
    Path dir = Files.createDirectories(temp.resolve(name));
    Files.copy(ca.caCertFile(), dir.resolve("ca.crt"));
    Files.copy(certificate.certFile(), dir.resolve("tls.crt"));
    Files.copy(certificate.keyFile(), dir.resolve("tls.key"));
    return dir;
  }

  private static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
