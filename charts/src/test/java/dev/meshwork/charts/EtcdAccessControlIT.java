package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.testing.etcd.EtcdExtension;
import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import dev.meshwork.testing.tls.IssuedCertificate;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The chart's etcd init script (files/etcd-init.sh, the same file the init Job runs) against a real
 * etcd 3.4 with TLS and {@code --client-cert-auth}, where a client certificate's CN is the user.
 */
class EtcdAccessControlIT {
  private static final Path SCRIPT = MeshworkChartTest.ChartFiles.path("etcd-init.sh");
  private static final String NODE_KEY = "meshwork/v1/state/nodes/k8s-shared-cluster/ip-192-168-18-202";

  @RegisterExtension final EtcdExtension etcd = EtcdExtension.tls();

  private IssuedCertificate root;
  private IssuedCertificate operator;
  private IssuedCertificate kvstoreSync;
  private IssuedCertificate agent;
  private IssuedCertificate remote;

  @BeforeEach
  void issueCertificatesFromTheEtcdCa() {
    root = etcd.certificates().client("root");
    operator = etcd.certificates().client("meshwork-operator");
    kvstoreSync = etcd.certificates().client("meshwork-kvstore-sync");
    agent = etcd.certificates().client("meshwork-agent");
    remote = etcd.certificates().client("remote");
  }

  @Test
  void remoteClusterCertificateReadsTheSharedStateButEveryWriteIsRefused() {
    runInitScript().orThrow();
    for (String key : List.of(NODE_KEY, "meshwork/v1/synced/k8s-shared-cluster/nodes",
        "meshwork/v1/heartbeat/k8s-shared-cluster", "meshwork/v1/cluster-config/k8s-shared-cluster")) {
      etcdctl(operator, "put", key, "value of " + key).orThrow();
      assertThat(etcdctl(remote, "get", key, "--print-value-only").orThrow().stdout().strip()).isEqualTo("value of " + key);
    }
    etcdctl(operator, "put", "meshwork/v1/cache/k8s-test-cluster/nodes/n1", "mirror").orThrow();

    assertRefused(etcdctl(remote, "put", NODE_KEY, "overwritten"));
    assertRefused(etcdctl(remote, "del", NODE_KEY));
    assertRefused(etcdctl(remote, "put", "meshwork/v1/heartbeat/k8s-shared-cluster", "now"));
    assertRefused(etcdctl(remote, "put", "meshwork/v1/state/nodes/k8s-test-cluster/forged", "x"));
    assertRefused(etcdctl(remote, "put", "elsewhere", "x"));
    assertRefused(etcdctl(remote, "get", "meshwork/v1/cache/k8s-test-cluster/nodes/n1"));
    assertRefused(etcdctl(remote, "get", "meshwork/v1/", "--prefix"));
    assertThat(etcdctl(operator, "get", NODE_KEY, "--print-value-only").orThrow().stdout().strip()).isEqualTo("value of " + NODE_KEY);
  }

  @Test
  void operatorAndKvstoreSyncCertificatesWriteUnderTheMeshworkPrefixOnly() {
    runInitScript().orThrow();

    etcdctl(operator, "put", NODE_KEY, "node").orThrow();
    etcdctl(operator, "del", NODE_KEY).orThrow();
    etcdctl(kvstoreSync, "put", "meshwork/v1/cache/k8s-test-cluster/nodes/n1", "mirror").orThrow();
    assertThat(etcdctl(kvstoreSync, "get", "meshwork/v1/", "--prefix", "--keys-only").orThrow().stdout())
        .contains("meshwork/v1/cache/k8s-test-cluster/nodes/n1");

    assertRefused(etcdctl(operator, "put", "elsewhere", "x"));
    assertRefused(etcdctl(kvstoreSync, "put", "meshwork/v2/state/x", "x"));
    assertRefused(etcdctl(operator, "user", "add", "intruder", "--no-password"));
  }

  @Test
  void localAgentCertificateReadsStateAndTheMirrorButCannotWrite() {
    runInitScript().orThrow();
    etcdctl(operator, "put", NODE_KEY, "node").orThrow();
    etcdctl(kvstoreSync, "put", "meshwork/v1/cache/k8s-test-cluster/nodes/n1", "mirror").orThrow();

    assertThat(etcdctl(agent, "get", NODE_KEY, "--print-value-only").orThrow().stdout().strip()).isEqualTo("node");
    assertThat(etcdctl(agent, "get", "meshwork/v1/cache/k8s-test-cluster/nodes/n1", "--print-value-only").orThrow().stdout().strip())
        .isEqualTo("mirror");
    assertRefused(etcdctl(agent, "put", NODE_KEY, "x"));
    assertRefused(etcdctl(agent, "put", "meshwork/v1/cache/k8s-test-cluster/nodes/n1", "x"));
  }

  @Test
  void certificateWhoseCommonNameIsNoUserIsRefused() {
    runInitScript().orThrow();
    IssuedCertificate stranger = etcd.certificates().client("k8s-test-cluster");

    assertThat(etcdctl(stranger, "get", NODE_KEY).exitCode()).isNotZero();
    assertThat(etcdctl(stranger, "put", NODE_KEY, "x").exitCode()).isNotZero();
  }

  @Test
  void enablesAuthOnlyAfterEveryUserAndRoleExists() {
    CommandResult result = runInitScript().orThrow();
    List<String> lines = result.stdout().lines().toList();

    assertThat(lines).last().isEqualTo("etcd-init: auth enabled");
    assertThat(lines).contains("etcd-init: user root created", "etcd-init: user meshwork-operator created",
        "etcd-init: user meshwork-kvstore-sync created", "etcd-init: user meshwork-agent created", "etcd-init: user remote created");
    assertThat(etcdctl(root, "role", "get", "meshwork-remote").orThrow().stdout())
        .contains("meshwork/v1/state/", "meshwork/v1/synced/", "meshwork/v1/heartbeat/", "meshwork/v1/cluster-config/")
        .doesNotContain("meshwork/v1/cache/");
  }

  @Test
  void runningAgainAfterAuthIsEnabledChangesNothing() {
    runInitScript().orThrow();
    etcdctl(operator, "put", NODE_KEY, "node").orThrow();

    CommandResult again = runInitScript();

    assertThat(again.exitCode()).as("second run: %s", again.output()).isZero();
    assertThat(again.stdout()).contains("etcd-init: user remote exists").doesNotContain("created");
    assertThat(etcdctl(root, "user", "list").orThrow().stdout().lines().toList())
        .containsExactlyInAnyOrder("meshwork-agent", "meshwork-kvstore-sync", "meshwork-operator", "remote", "root");
    assertRefused(etcdctl(remote, "put", NODE_KEY, "x"));
    assertThat(etcdctl(remote, "get", NODE_KEY, "--print-value-only").orThrow().stdout().strip()).isEqualTo("node");
  }

  @Test
  void remoteUserNameFollowsTheSetting() {
    IssuedCertificate mesh = etcd.certificates().client("mesh-reader");
    runInitScript(Map.of("MESHWORK_ETCD_REMOTE_USER", "mesh-reader")).orThrow();
    etcdctl(operator, "put", NODE_KEY, "node").orThrow();

    assertThat(etcdctl(mesh, "get", NODE_KEY, "--print-value-only").orThrow().stdout().strip()).isEqualTo("node");
    assertRefused(etcdctl(mesh, "put", NODE_KEY, "x"));
    assertThat(etcdctl(remote, "get", NODE_KEY).exitCode()).isNotZero();
  }

  private CommandResult runInitScript() {
    return runInitScript(Map.of());
  }

  /** Runs the script like the Job does: etcdctl settings in ETCDCTL_*, the root certificate. */
  private CommandResult runInitScript(Map<String, String> extraEnvironment) {
    List<String> command = List.of("/bin/sh", SCRIPT.toString());
    ProcessBuilder builder = new ProcessBuilder(command);
    Map<String, String> environment = builder.environment();
    environment.keySet().removeIf(name -> name.startsWith("ETCDCTL") || name.startsWith("MESHWORK_"));
    environment.put("ETCDCTL_ENDPOINTS", etcd.endpoint());
    environment.put("ETCDCTL_CACERT", root.caCertFile().toString());
    environment.put("ETCDCTL_CERT", root.certFile().toString());
    environment.put("ETCDCTL_KEY", root.keyFile().toString());
    environment.put("MESHWORK_ETCD_WAIT_SECONDS", "20");
    environment.putAll(extraEnvironment);
    try {
      Process process = builder.start();
      var stdout = process.getInputStream();
      var stderr = process.getErrorStream();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("etcd-init.sh did not finish within 60 s");
      }
      return new CommandResult(command, process.exitValue(),
          new String(stdout.readAllBytes(), StandardCharsets.UTF_8), new String(stderr.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new AssertionError("cannot run " + SCRIPT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** etcdctl as the user of {@code certificate}. */
  private CommandResult etcdctl(IssuedCertificate certificate, String... args) {
    List<String> command = new ArrayList<>(List.of("/usr/bin/etcdctl", "--endpoints=" + etcd.endpoint(), "--command-timeout=10s",
        "--cacert=" + certificate.caCertFile(), "--cert=" + certificate.certFile(), "--key=" + certificate.keyFile()));
    command.addAll(List.of(args));
    return Command.run(command, Duration.ofSeconds(30));
  }

  private static void assertRefused(CommandResult result) {
    assertThat(result.exitCode()).as("exit code of %s", result.command()).isNotZero();
    assertThat(result.stderr()).as("stderr of %s", result.command()).contains("permission denied");
  }
}
