package dev.meshwork.testing.netns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandFailedException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("privileged")
class NetworkNamespacesPrivilegedIT {
  @BeforeEach
  void needsRoot() {
    NetworkNamespaces.assumeRoot();
  }

  @Test
  void createsUniquelyNamedNamespacesWithLoopbackUpAndDeletesThemOnClose() {
    NetworkNamespace pod;
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      pod = namespaces.create("pod1");

      assertThat(pod.name()).startsWith(namespaces.prefix() + "-").matches("mwt-nstest-[0-9a-f]{6}-pod1");
      assertThat(pod.path()).isEqualTo(Path.of("/run/netns", pod.name())).exists();
      assertThat(pod.execOrThrow("ip", "-o", "link", "show", "lo").stdout()).contains("UP");
    }
    assertThat(pod.exists()).isFalse();
    assertThat(Command.check("ip", "netns", "list").stdout()).doesNotContain(pod.name());
  }

  @Test
  void namespacesAreIsolatedFromEachOther() {
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      NetworkNamespace a = namespaces.create("a");
      NetworkNamespace b = namespaces.create("b");
      a.execOrThrow("ip", "link", "add", "mwt-only-a", "type", "bridge");

      assertThat(a.execOrThrow("ip", "-o", "link").stdout()).contains("mwt-only-a");
      assertThat(b.execOrThrow("ip", "-o", "link").stdout()).doesNotContain("mwt-only-a");
      assertThat(Command.check("ip", "-o", "link").stdout()).doesNotContain("mwt-only-a");
    }
  }

  @Test
  void nsenterKeepsTheHostsSysMountsWhereIpNetnsExecHidesThem() {
    // ip netns exec mounts a fresh /sys, hiding what is mounted below it (bpffs at /sys/fs/bpf, cgroups)
    String mount = Command.run("mountpoint", "-q", "/sys/fs/bpf").succeeded() ? "/sys/fs/bpf" : "/sys/fs/cgroup";
    org.junit.jupiter.api.Assumptions.assumeTrue(Command.run("mountpoint", "-q", mount).succeeded(),
        "skipped: neither /sys/fs/bpf nor /sys/fs/cgroup is a mount point on this host");
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      NetworkNamespace ns = namespaces.create("sys");

      assertThat(ns.nsenter("mountpoint", "-q", mount).succeeded()).isTrue();
      assertThat(ns.exec("mountpoint", "-q", mount).succeeded()).isFalse();
    }
  }

  @Test
  void ipBatchRunsManyCommandsInTheNamespace() {
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      NetworkNamespace ns = namespaces.create("batch");

      ns.ipBatch(List.of("link add mwt-br0 type bridge", "link set mwt-br0 up", "addr add 10.200.0.1/24 dev mwt-br0")).orThrow();

      assertThat(ns.execOrThrow("ip", "-o", "addr", "show", "mwt-br0").stdout()).contains("10.200.0.1/24");
    }
  }

  @Test
  void failedCommandReportsItsCommandLineAndStderr() {
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      NetworkNamespace ns = namespaces.create("fail");

      assertThatThrownBy(() -> ns.execOrThrow("ip", "link", "show", "mwt-missing"))
          .isInstanceOf(CommandFailedException.class)
          .hasMessageContaining("ip netns exec " + ns.name() + " ip link show mwt-missing")
          .hasMessageContaining("exited with");
    }
  }

  @Test
  void closeDeletesOnlyItsOwnNamespaces() {
    NetworkNamespaces mine = new NetworkNamespaces("nstest");
    try (NetworkNamespaces theirs = new NetworkNamespaces("nstest")) {
      NetworkNamespace kept = theirs.create("kept");
      NetworkNamespace gone = mine.create("gone");

      mine.close();

      assertThat(gone.exists()).isFalse();
      assertThat(kept.exists()).isTrue();
    } finally {
      mine.close();
    }
  }

  @Test
  void refusesBadNames() {
    assertThatThrownBy(() -> new NetworkNamespaces("Bad Name")).hasMessageContaining("[a-z0-9-]");
    try (NetworkNamespaces namespaces = new NetworkNamespaces("nstest")) {
      assertThatThrownBy(() -> namespaces.create("x/../../etc")).hasMessageContaining("[a-z0-9-]");
    }
  }
}
