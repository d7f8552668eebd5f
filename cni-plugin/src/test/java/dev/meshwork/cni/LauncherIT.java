package dev.meshwork.cni;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cni.json.Json;
import dev.meshwork.testing.cni.FakeCniAgent;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.spi.ToolProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/meshwork-cni run the way kubelet runs it: a new process, from a copy or a symlink in a CNI
 * bin directory, CNI_* environment, configuration on stdin. The plugin jar is packed from this
 * build's classes into a temporary installation directory.
 */
class LauncherIT {

  static final Path LAUNCHER = Path.of("..", "bin", "meshwork-cni").toAbsolutePath().normalize();
  static final String JAR = "meshwork-cni-plugin-0.0.0-test.jar";

  @TempDir Path dir;
  FakeCniAgent agent;
  Path home;
  Path cniBin;

  @BeforeEach
  void install() throws IOException {
    agent = FakeCniAgent.start(dir.resolve("agent.sock"));
    home = Files.createDirectories(dir.resolve("opt/meshwork/cni"));
    packJar(home.resolve(JAR));
    cniBin = Files.createDirectories(dir.resolve("opt/cni/bin"));
  }

  @AfterEach
  void stop() throws IOException {
    agent.close();
  }

  record Run(int exit, String stdout, String stderr) {}

  @Test
  void aCopyInTheCniBinDirectoryFindsThePluginThroughMeshworkCniHome() throws Exception {
    Path launcher = copyLauncher(cniBin, null);

    Run run = add(launcher, Map.of("MESHWORK_CNI_HOME", home.toString()));

    assertThat(run.exit()).as(run.stderr()).isZero();
    Map<String, Object> result = Json.parseObject(run.stdout());
    assertThat(result).containsEntry("cniVersion", "1.1.0");
    assertThat(run.stdout()).contains("\"address\":\"10.244.1.2/32\"");
    assertThat(agent.calls()).hasSize(1);
  }

  @Test
  void aCopyWithTheHomeBakedInAtInstallTimeNeedsNoEnvironment() throws Exception {
    Path launcher = copyLauncher(cniBin, home);

    Run run = add(launcher, Map.of());

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isZero();
    assertThat(run.stdout()).contains("10.244.1.2/32");
  }

  @Test
  void aSymlinkFindsTheCheckoutItPointsInto() throws Exception {
    Path checkout = dir.resolve("src/meshwork");
    Path target = Files.createDirectories(checkout.resolve("cni-plugin/target"));
    Files.copy(home.resolve(JAR), target.resolve(JAR));
    Path original = copyLauncher(Files.createDirectories(checkout.resolve("bin")), null);
    Path link = Files.createSymbolicLink(cniBin.resolve("meshwork-cni"), original);

    Run run = add(link, Map.of());

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isZero();
    assertThat(run.stdout()).contains("10.244.1.2/32");
  }

  @Test
  void aMissingInstallationIsReportedAsACniError() throws Exception {
    Path launcher = copyLauncher(cniBin, null);
    Path empty = Files.createDirectories(dir.resolve("empty"));

    Run run = add(launcher, Map.of("MESHWORK_CNI_HOME", empty.toString()));

    assertThat(run.exit()).isNotZero();
    Map<String, Object> error = Json.parseObject(run.stdout());
    assertThat(((Number) error.get("code")).intValue()).isEqualTo(102);
    assertThat((String) error.get("details")).contains(empty.toString(), "MESHWORK_CNI_HOME");
  }

  @Test
  void stdoutCarriesOnlyTheCniAnswerAndStderrStaysQuiet() throws Exception {
    Path launcher = copyLauncher(cniBin, home);

    Run run = exec(launcher, Map.of("CNI_COMMAND", "VERSION"), "{\"cniVersion\":\"0.4.0\"}");

    assertThat(run.exit()).isZero();
    assertThat(run.stdout()).isEqualTo(
        "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");
    assertThat(run.stderr()).isEmpty();
  }

  @Test
  void anAgentThatIsDownGivesExitStatusOneAndCode11() throws Exception {
    agent.close();
    Path launcher = copyLauncher(cniBin, home);

    Run run = add(launcher, Map.of());

    assertThat(run.exit()).isEqualTo(1);
    assertThat(((Number) Json.parseObject(run.stdout()).get("code")).intValue()).isEqualTo(11);
    assertThat(run.stderr()).isEmpty();
  }

  @Test
  void usesJavaHomeWhenItIsJava25() throws Exception {
    Path jdk = fakeJdk("25.0.1", "exec " + Path.of(System.getProperty("java.home"), "bin", "java")
        + " \"$@\"");
    Path launcher = copyLauncher(cniBin, home);

    Run run = add(launcher, Map.of("JAVA_HOME", jdk.toString()), false);

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isZero();
    assertThat(Files.readString(jdk.resolve("used"))).isEqualTo("yes\n");
  }

  @Test
  void ignoresAJavaHomeOlderThan25() throws Exception {
    Path fallback = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(fallback),
        "the launcher's default Java 25 (" + fallback + ") is not installed here");
    Path jdk = fakeJdk("17.0.12", "exit 99");
    Path launcher = copyLauncher(cniBin, home);

    Run run = add(launcher, Map.of("JAVA_HOME", jdk.toString()), false);

    assertThat(run.exit()).as(run.stdout() + run.stderr()).isZero();
    assertThat(jdk.resolve("used")).doesNotExist();
  }

  // ------------------------------------------------------------------------------------------

  /** A JDK directory with a release file and a bin/java that records its use, then runs body. */
  private Path fakeJdk(String version, String body) throws IOException {
    Path jdk = Files.createDirectories(dir.resolve("jdk-" + version));
    Files.writeString(jdk.resolve("release"),
        "IMPLEMENTOR=\"test\"\nJAVA_VERSION=\"" + version + "\"\nJAVA_VERSION_DATE=\"2025-10-21\"\n");
    Path java = Files.createDirectories(jdk.resolve("bin")).resolve("java");
    Files.writeString(java, "#!/bin/sh\necho yes > " + jdk.resolve("used") + "\n" + body + "\n");
    Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    return jdk;
  }

  private Run add(Path launcher, Map<String, String> extraEnv) throws Exception {
    return add(launcher, extraEnv, true);
  }

  private Run add(Path launcher, Map<String, String> extraEnv, boolean pinJava)
      throws Exception {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("CNI_COMMAND", "ADD");
    env.put("CNI_CONTAINERID", "launcher0");
    env.put("CNI_NETNS", "/var/run/netns/launcher0");
    env.put("CNI_IFNAME", "eth0");
    env.put("CNI_PATH", cniBin.toString());
    return exec(launcher, env, "{\"cniVersion\":\"1.1.0\",\"name\":\"meshwork\","
        + "\"type\":\"meshwork-cni\",\"agent-socket\":\"" + agent.socket() + "\"}", pinJava);
  }

  private Run exec(Path launcher, Map<String, String> env, String stdin) throws Exception {
    return exec(launcher, env, stdin, true);
  }

  private Run exec(Path launcher, Map<String, String> env, String stdin, boolean pinJava)
      throws Exception {
    ProcessBuilder pb = new ProcessBuilder(launcher.toString());
    // Like kubelet: a small environment, not the test JVM's.
    pb.environment().clear();
    pb.environment().put("PATH", "/usr/bin:/bin");
    if (pinJava) {
      pb.environment().put("MESHWORK_JAVA_HOME", System.getProperty("java.home"));
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    try (var in = p.getOutputStream()) {
      in.write(stdin.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // The launcher may exit without reading stdin (a broken installation); runtimes ignore
      // EPIPE on stdin too.
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, err);
  }

  /** Copies the launcher like an installer; {@code bakedHome} is written into it if given. */
  private static Path copyLauncher(Path binDir, Path bakedHome) throws IOException {
    String script = Files.readString(LAUNCHER);
    if (bakedHome != null) {
      assertThat(script).contains("\nbaked_home=\"\"\n");
      script = script.replace("\nbaked_home=\"\"\n", "\nbaked_home=\"" + bakedHome + "\"\n");
    }
    Path copy = binDir.resolve("meshwork-cni");
    Files.writeString(copy, script);
    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
    return copy;
  }

  /** Packs this build's main classes into an executable jar. */
  private static void packJar(Path jar) {
    Path classes = Path.of("target", "classes").toAbsolutePath();
    ToolProvider tool = ToolProvider.findFirst("jar").orElseThrow();
    StringWriter out = new StringWriter();
    int status = tool.run(new PrintWriter(out), new PrintWriter(out), "--create", "--file",
        jar.toString(), "--main-class", CniMain.class.getName(), "-C", classes.toString(), ".");
    assertThat(status).as(out.toString()).isZero();
  }
}
