package dev.meshwork.agent.endpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

class CniInstallerTest {
  /** The real launcher from the checkout (tests run in the agent module's directory). */
  private static final Path LAUNCHER = Path.of("..", "bin", "meshwork-cni");

  @TempDir Path root;
  private Path build;
  private Path home;
  private Path binDir;
  private Path netDir;

  @BeforeEach
  void layout() throws Exception {
    build = Files.createDirectories(root.resolve("cni-plugin/target"));
    Files.writeString(build.resolve("meshwork-cni-plugin-0.2.0.jar"), "jar 0.2.0");
    Files.writeString(build.resolve("meshwork-cni-plugin-0.2.0-sources.jar"), "sources");
    Files.writeString(build.resolve("meshwork-cni.aot"), "aot 0.2.0");
    home = root.resolve("opt/meshwork/cni");
    binDir = root.resolve("opt/cni/bin");
    netDir = root.resolve("etc/cni/net.d");
  }

  private CniInstaller installer(Path pluginFiles) {
    return new CniInstaller(new CniInstaller.Settings(LAUNCHER, pluginFiles, home.toAbsolutePath(), binDir, netDir,
        Path.of("/var/run/meshwork/agent.sock"), 1400, Path.of("/var/log/meshwork-cni.log"), "info", null));
  }

  @Test
  void writesTheConflistTheRuntimeReads() throws Exception {
    installer(build).install();

    JsonNode conflist = new ObjectMapper().readTree(Files.readString(netDir.resolve("05-meshwork.conflist")));
    // 1.0.0 for runtimes older than CNI 1.1 (podman 4 refuses a 1.1.0 result); 1.1 runtimes use cniVersions
    assertThat(conflist.path("cniVersion").asString()).isEqualTo("1.0.0");
    assertThat(conflist.path("cniVersions")).extracting(JsonNode::asString).containsExactly("1.0.0", "1.1.0");
    assertThat(conflist.path("name").asString()).isEqualTo("meshwork");
    JsonNode plugin = conflist.path("plugins").get(0);
    assertThat(plugin.path("type").asString()).isEqualTo("meshwork-cni");
    assertThat(plugin.path("agent-socket").asString()).isEqualTo("/var/run/meshwork/agent.sock");
    assertThat(plugin.path("mtu").asInt()).isEqualTo(1400);
    assertThat(plugin.path("log-file").asString()).isEqualTo("/var/log/meshwork-cni.log");
    assertThat(plugin.path("log-level").asString()).isEqualTo("info");
  }

  @Test
  void installsAnExecutableLauncherWithThePluginHomeBakedIn() throws Exception {
    installer(build).install();

    Path launcher = binDir.resolve("meshwork-cni");
    assertThat(Files.getPosixFilePermissions(launcher)).isEqualTo(PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThat(Files.readAllLines(launcher)).contains("baked_home=\"" + home.toAbsolutePath() + "\"");
    assertThat(Files.readString(launcher)).isEqualTo(
        Files.readString(LAUNCHER).replaceFirst("(?m)^baked_home=.*$", "baked_home=\"" + home.toAbsolutePath() + "\""));
  }

  @Test
  void bakesInThePluginHomeAsTheNodeSeesIt() throws Exception {
    new CniInstaller(new CniInstaller.Settings(LAUNCHER, build, home.toAbsolutePath(), binDir, netDir,
        Path.of("/var/run/meshwork/agent.sock"), 1450, null, "info", Path.of("/opt/meshwork/cni"))).install();

    assertThat(Files.readAllLines(binDir.resolve("meshwork-cni"))).contains("baked_home=\"/opt/meshwork/cni\"");
    assertThat(home.resolve("meshwork-cni-plugin-0.2.0.jar")).exists();
  }

  @Test
  void copiesTheJarAndCacheAndRemovesAJarOfAnOlderVersion() throws Exception {
    Files.createDirectories(home);
    Files.writeString(home.resolve("meshwork-cni-plugin-0.1.0.jar"), "jar 0.1.0");

    installer(build).install();

    assertThat(Files.readString(home.resolve("meshwork-cni-plugin-0.2.0.jar"))).isEqualTo("jar 0.2.0");
    assertThat(Files.readString(home.resolve("meshwork-cni.aot"))).isEqualTo("aot 0.2.0");
    assertThat(home.resolve("meshwork-cni-plugin-0.1.0.jar")).doesNotExist();
    assertThat(home.resolve("meshwork-cni-plugin-0.2.0-sources.jar")).doesNotExist();
  }

  @Test
  void runningItAgainGivesTheSameFilesAndLeavesNoTemporaries() throws Exception {
    installer(build).install();
    String first = Files.readString(netDir.resolve("05-meshwork.conflist"));

    installer(build).install();

    assertThat(Files.readString(netDir.resolve("05-meshwork.conflist"))).isEqualTo(first);
    try (var files = Files.list(netDir)) {
      assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("05-meshwork.conflist");
    }
    try (var files = Files.list(binDir)) {
      assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("meshwork-cni");
    }
  }

  @Test
  void refusesPluginFilesWithoutAJar() throws Exception {
    Path empty = Files.createDirectories(root.resolve("empty"));

    assertThatThrownBy(() -> installer(empty).install())
        .hasMessageContaining("no meshwork-cni-plugin-<version>.jar in " + empty);
    assertThat(netDir.resolve("05-meshwork.conflist")).doesNotExist();
  }

  @Test
  void refusesALauncherWithoutABakedHomeLine() throws Exception {
    Path notALauncher = Files.writeString(root.resolve("other.sh"), "#!/bin/sh\necho hi\n");
    CniInstaller installer = new CniInstaller(new CniInstaller.Settings(notALauncher, null, home.toAbsolutePath(),
        binDir, netDir, Path.of("/run/a.sock"), 1450, null, "info", null));

    assertThatThrownBy(installer::install).hasMessageContaining(notALauncher.toString()).hasMessageContaining("baked_home");
  }

  @Test
  void rejectsSettingsTheRuntimeCouldNotUse() {
    assertThatThrownBy(() -> new CniInstaller.Settings(LAUNCHER, null, Path.of("/opt/meshwork/cni"), binDir, netDir,
        Path.of("/run/a.sock"), 40, null, "info", null)).hasMessageContaining("mtu 40");
    assertThatThrownBy(() -> new CniInstaller.Settings(LAUNCHER, null, Path.of("/opt/meshwork/cni"), binDir, netDir,
        Path.of("relative.sock"), 1450, null, "info", null)).hasMessageContaining("relative.sock");
    assertThatThrownBy(() -> new CniInstaller.Settings(LAUNCHER, null, Path.of("/opt/meshwork/cni"), binDir, netDir,
        Path.of("/run/a.sock"), 1450, null, "verbose", null)).hasMessageContaining("verbose");
  }
}
