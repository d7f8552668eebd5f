package dev.meshwork.charts;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.testing.process.Command;
import dev.meshwork.testing.process.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * files/install-cni.sh, the agent's init container, run against a fake host root: it must leave a
 * launcher kubelet can execute, the plugin's runtime, and the conflist, and replace them on upgrade.
 */
class InstallCniScriptTest {
  private static final Path SCRIPT = MeshworkChartTest.ChartFiles.path("install-cni.sh");
  private static final String CONFLIST = "{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\",\"plugins\":[{\"type\":\"meshwork-cni\"}]}";

  @TempDir Path temp;
  private Path host;
  private Path image;

  @BeforeEach
  void fakeImageAndHost() throws IOException {
    host = Files.createDirectories(temp.resolve("host"));
    image = Files.createDirectories(temp.resolve("image"));
    // The image's JRE: a "java" that prints how it was called, so the launcher can be run here.
    Path java = Files.createDirectories(image.resolve("jre/bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\necho \"java $*\"\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(image.resolve("app/libs"));
    Files.writeString(image.resolve("app/libs/meshwork-cni-plugin.jar"), "jar v1");
    Files.createDirectories(image.resolve("app/classes"));
    Files.createDirectories(image.resolve("app/resources"));
    Files.writeString(image.resolve("05-meshwork.conflist"), CONFLIST);
  }

  @Test
  void installsLauncherRuntimeAndConflistOnTheHost() throws IOException {
    install().orThrow();

    Path launcher = host.resolve("opt/cni/bin/meshwork-cni");
    assertThat(Files.isExecutable(launcher)).isTrue();
    assertThat(host.resolve("opt/meshwork/cni/jre/bin/java")).isExecutable();
    assertThat(host.resolve("opt/meshwork/cni/app/libs/meshwork-cni-plugin.jar")).hasContent("jar v1");
    assertThat(host.resolve("etc/cni/net.d/05-meshwork.conflist")).hasContent(CONFLIST);
    try (var leftovers = Files.list(host.resolve("etc/cni/net.d"))) {
      assertThat(leftovers).extracting(p -> p.getFileName().toString()).containsExactly("05-meshwork.conflist");
    }
  }

  @Test
  void launcherRunsTheCniMainClassOnTheHostsCopyOfTheRuntimeWithItsArguments() {
    // With an empty host root the host paths are real paths under the temp directory, so the
    // launcher can run exactly as kubelet would run it.
    CommandResult installed = Command.run(List.of("/bin/sh", SCRIPT.toString()), Duration.ofSeconds(30));
    assertThat(installed.exitCode()).isNotZero(); // refuses to run without its settings

    install("", temp.resolve("bin").toString(), temp.resolve("conf").toString(), temp.resolve("runtime").toString()).orThrow();
    CommandResult run = Command.run(List.of(temp.resolve("bin/meshwork-cni").toString(), "extra-arg"), Duration.ofSeconds(30)).orThrow();

    String runtime = temp.resolve("runtime").toString();
    assertThat(run.stdout().strip()).startsWith("java ")
        .contains("-cp " + runtime + "/app/resources:" + runtime + "/app/classes:" + runtime + "/app/libs/*")
        .endsWith("dev.meshwork.cni.CniMain extra-arg");
  }

  @Test
  void upgradeReplacesTheRuntimeWithoutLeavingTheOldOneBehind() throws IOException {
    install().orThrow();
    Files.delete(image.resolve("app/libs/meshwork-cni-plugin.jar"));
    Files.writeString(image.resolve("app/libs/meshwork-cni-plugin-2.jar"), "jar v2");

    install().orThrow();

    try (var libs = Files.list(host.resolve("opt/meshwork/cni/app/libs"))) {
      assertThat(libs).extracting(p -> p.getFileName().toString()).containsExactly("meshwork-cni-plugin-2.jar");
    }
    try (var runtimes = Files.list(host.resolve("opt/meshwork"))) {
      assertThat(runtimes).extracting(p -> p.getFileName().toString()).containsExactly("cni");
    }
  }

  private CommandResult install() {
    return install(host.toString(), "/opt/cni/bin", "/etc/cni/net.d", "/opt/meshwork/cni");
  }

  private CommandResult install(String hostRoot, String binDir, String confDir, String runtimeDir) {
    return Command.run(List.of("/usr/bin/env",
        "HOST_ROOT=" + hostRoot, "CNI_BIN_DIR=" + binDir, "CNI_CONF_DIR=" + confDir, "RUNTIME_DIR=" + runtimeDir,
        "CONF_FILE=" + image.resolve("05-meshwork.conflist"), "JAVA_HOME=" + image.resolve("jre"), "APP_DIR=" + image.resolve("app"),
        "/bin/sh", SCRIPT.toString()), Duration.ofSeconds(30));
  }
}
