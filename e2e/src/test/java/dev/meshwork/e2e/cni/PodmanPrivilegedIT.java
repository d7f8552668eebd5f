package dev.meshwork.e2e.cni;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.agent.endpoint.EndpointRecord;
import dev.meshwork.agent.endpoint.PodRef;
import dev.meshwork.datapath.IpPrefix;
import dev.meshwork.datapath.Ipv4;
import dev.meshwork.testing.netns.NetworkNamespaces;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real CNI client: podman (CNI backend) runs busybox containers on one node through {@code
 * meshwork-cni}, installed by {@code CniInstaller}, against the agent's endpoint side on a Unix
 * socket ({@link NodeAgentFixture}). podman runs under {@code nsenter --net=<node namespace>}, with
 * its configuration, storage, run directory and cgroup parent of the test's own, all removed
 * afterwards. podman passes {@code K8S_POD_NAME} (the container name) and no namespace, so the
 * pods are {@code default/<container name>}.
 */
@Tag("privileged")
class PodmanPrivilegedIT {
  private static final IpPrefix POD_CIDR = IpPrefix.parse("10.77.6.0/24");
  private static final Duration PODMAN_TIMEOUT = Duration.ofSeconds(120);

  @TempDir Path dir;
  private NodeAgentFixture node;
  private Path containersConf;
  private Path storageConf;
  private Path rootfs;
  private String cgroupParent;
  private final List<String> containers = new ArrayList<>();

  @BeforeEach
  void setUp() throws Exception {
    NetworkNamespaces.assumeRoot();
    Assumptions.assumeTrue(onPath("podman"),
        "skipped: podman is not installed (apt-get install podman containernetworking-plugins busybox-static runc conmon)");
    Assumptions.assumeTrue(onPath("runc") && onPath("conmon"), "skipped: podman needs runc and conmon (apt-get install runc conmon)");
    Assumptions.assumeTrue(staticBusybox(), "skipped: the container rootfs needs a static busybox (apt-get install busybox-static)");
    Assumptions.assumeTrue(Checkout.pluginMissing().isEmpty(), () -> "skipped: " + Checkout.pluginMissing().orElseThrow());
    node = new NodeAgentFixture("ep2-podman", dir.resolve("node"), POD_CIDR, Duration.ofSeconds(10));
    String id = HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt());
    cgroupParent = "/mwt-ep2-podman-" + id;
    rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
    Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
    for (String applet : List.of("sh", "sleep", "ping", "ip", "cat")) {
      Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
    }
    rootfs = rootfs.getParent();
    Path podman = Files.createDirectories(dir.resolve("podman"));
    containersConf = Files.writeString(podman.resolve("containers.conf"), """
        [containers]
        cgroups = "no-conmon"
        default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]

        [network]
        network_backend = "cni"
        cni_plugin_dirs = ["%s"]
        network_config_dir = "%s"
        default_network = "meshwork"

        [engine]
        runtime = "runc"
        cgroup_manager = "cgroupfs"
        events_logger = "none"
        tmp_dir = "%s"
        """.formatted(node.cniBinDir, node.netConfDir, Files.createDirectories(podman.resolve("tmp"))));
    storageConf = Files.writeString(podman.resolve("storage.conf"), """
        [storage]
        driver = "vfs"
        graphroot = "%s"
        runroot = "%s"
        """.formatted(podman.resolve("root"), podman.resolve("runroot")));
  }

  @AfterEach
  void tearDown() throws Exception {
    try {
      if (!containers.isEmpty()) {
        List<String> rm = new ArrayList<>(List.of("rm", "-f", "-t", "0"));
        rm.addAll(containers);
        podman(rm.toArray(String[]::new));
      }
    } finally {
      try {
        removeCgroups();
      } finally {
        if (node != null) {
          node.close();
        }
      }
    }
  }

  @Test
  void twoContainersGetAddressesFromThePodCidrReachEachOtherAndReleaseThemWhenRemoved() throws Exception {
    node.publish(new PodRef("default", "mwt-ep2-a"), 7001, "k8s:app=a");
    node.publish(new PodRef("default", "mwt-ep2-b"), 7002, "k8s:app=b");

    run("mwt-ep2-a");
    run("mwt-ep2-b");

    List<EndpointRecord> endpoints = node.manager.endpoints();
    assertThat(endpoints).extracting(r -> r.pod().name()).containsExactlyInAnyOrder("mwt-ep2-a", "mwt-ep2-b");
    assertThat(endpoints).allSatisfy(r -> {
      assertThat(POD_CIDR.contains(r.ip())).as("%s in %s", Ipv4.format(r.ip()), POD_CIDR).isTrue();
      assertThat(r.phase()).isEqualTo(EndpointRecord.Phase.READY);
    });
    String a = addressOf("mwt-ep2-a");
    String b = addressOf("mwt-ep2-b");
    assertThat(podman("exec", "mwt-ep2-a", "/bin/ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout)
        .contains(a + "/32");
    assertThat(node.datapath.snapshot().endpoints()).containsOnlyKeys(Ipv4.parse(a), Ipv4.parse(b));

    assertThat(podman("exec", "mwt-ep2-a", "/bin/ping", "-c", "1", "-W", "2", b).exit).isZero();
    assertThat(podman("exec", "mwt-ep2-b", "/bin/ping", "-c", "1", "-W", "2", a).exit).isZero();

    assertThat(podman("rm", "-f", "-t", "0", "mwt-ep2-a", "mwt-ep2-b").exit).isZero();
    containers.clear();

    assertThat(node.manager.endpoints()).as("podman rm ran CNI DEL for both").isEmpty();
    assertThat(node.manager.ipam().allocated()).isZero();
    assertThat(node.datapath.snapshot().endpoints()).isEmpty();
    assertThat(node.node.nsenterOrThrow("ip", "-o", "link", "show").stdout()).doesNotContain(" mw");
  }

  private void run(String name) throws Exception {
    containers.add(name);
    Result r = podman("run", "-d", "--name", name, "--network", "meshwork", "--cap-add", "NET_RAW",
        "--cgroup-parent", cgroupParent, "--rootfs", rootfs.toString(), "/bin/sleep", "600");
    assertThat(r.exit).as("podman run %s: %s", name, r).isZero();
  }

  private String addressOf(String pod) {
    return node.manager.endpoints().stream()
        .filter(r -> r.pod().name().equals(pod))
        .map(r -> Ipv4.format(r.ip()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no endpoint for " + pod));
  }

  private record Result(int exit, String stdout, String stderr) {}

  private Result podman(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of("nsenter", "--net=" + node.node.path(), "podman"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("CONTAINERS_CONF", containersConf.toString());
    builder.environment().put("CONTAINERS_STORAGE_CONF", storageConf.toString());
    builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Process process = builder.start();
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.getErrorStream()));
    String out = read(process.getInputStream());
    if (!process.waitFor(PODMAN_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("podman " + String.join(" ", args) + " did not finish in " + PODMAN_TIMEOUT);
    }
    return new Result(process.exitValue(), out, err.get());
  }

  private static String read(java.io.InputStream in) {
    try {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  /** Removes this test's cgroup parent (empty once its containers are gone) from every hierarchy. */
  private void removeCgroups() throws IOException {
    if (cgroupParent == null) {
      return;
    }
    try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
      for (Path h : hierarchies.toList()) {
        Path parent = h.resolve(cgroupParent.substring(1));
        if (Files.isDirectory(parent)) {
          try (Stream<Path> tree = Files.walk(parent)) {
            for (Path d : tree.filter(Files::isDirectory).sorted(java.util.Comparator.reverseOrder()).toList()) {
              Files.deleteIfExists(d); // rmdir: the kernel refuses a cgroup that still has processes
            }
          }
        }
      }
    }
  }

  private static boolean onPath(String binary) {
    return Stream.of(System.getenv().getOrDefault("PATH", "/usr/bin:/bin:/usr/sbin:/sbin").split(":"))
        .anyMatch(d -> Files.isExecutable(Path.of(d, binary)));
  }

  /** A busybox without a program interpreter (PT_INTERP), so it runs alone in the rootfs. */
  private static boolean staticBusybox() {
    Path busybox = Path.of("/bin/busybox");
    if (!Files.isRegularFile(busybox)) {
      return false;
    }
    try {
      return !new String(Files.readAllBytes(busybox), StandardCharsets.ISO_8859_1).contains("/lib64/ld-linux");
    } catch (IOException e) {
      return false;
    }
  }
}
