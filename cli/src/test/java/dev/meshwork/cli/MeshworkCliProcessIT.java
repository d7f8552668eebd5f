package dev.meshwork.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.BlogMesh;
import dev.meshwork.cli.testing.FakeAgent;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `meshwork` as a real process: the socket from the environment, and the process exit code. */
class MeshworkCliProcessIT {

  @TempDir Path dir;

  record Result(int exitCode, String out, String err) {}

  @Test
  void socketComesFromMeshworkAgentSocketWhenNoFlagIsGiven() throws Exception {
    try (FakeAgent agent = FakeAgent.start(dir.resolve("agent.sock"))) {
      BlogMesh.serveFrom(agent);

      Result result = run(Map.of("MESHWORK_AGENT_SOCKET", agent.socket().toString()), "bpf", "tunnel", "list");

      assertThat(result.exitCode()).as(result.err()).isZero();
      assertThat(result.out()).contains("10.2.1.0/24   192.168.19.207");
    }
  }

  @Test
  void processExitsOneWithTheOneLineMessageWhenTheAgentIsDown() throws Exception {
    Path socket = dir.resolve("missing.sock");

    Result result = run(Map.of("MESHWORK_AGENT_SOCKET", socket.toString()), "clustermesh", "status");

    assertThat(result.exitCode()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.err()).isEqualTo("meshwork: cannot reach the agent at " + socket
        + ": no such socket. Is meshwork-agent running on this node?\n");
  }

  private static Result run(Map<String, String> env, String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "--enable-native-access=ALL-UNNAMED",
        "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"),
        MeshworkCli.class.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().putAll(env);
    Process process = builder.start();
    process.getOutputStream().close();
    // Both streams are small; read them fully after exit (the pipes hold them meanwhile).
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("meshwork " + String.join(" ", args) + " did not exit within 60 s");
    }
    return new Result(process.exitValue(),
        new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
        new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
  }
}
