package dev.meshwork.cli.inspect;

import static dev.meshwork.cli.testing.CliRun.meshwork;
import static org.assertj.core.api.Assertions.assertThat;

import dev.meshwork.cli.testing.CliRun;
import dev.meshwork.cli.testing.FakeAgent;
import io.grpc.Status;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the user sees when the agent is not there, fails, or the command line is wrong. */
class AgentErrorsTest {

  @TempDir Path dir;

  @Test
  void missingSocketSaysTheAgentIsNotRunningAndExitsOne() {
    Path socket = dir.resolve("agent.sock");

    CliRun run = meshwork("node", "list", "--socket", socket.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err()).isEqualTo("meshwork: cannot reach the agent at " + socket
        + ": no such socket. Is meshwork-agent running on this node?\n");
  }

  @Test
  void refusedSocketSaysConnectionRefusedAndExitsOne() throws Exception {
    Path socket = dir.resolve("stale.sock");
    // A socket file nobody listens on any more: what a crashed agent leaves behind.
    try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      server.bind(UnixDomainSocketAddress.of(socket));
    }

    CliRun run = meshwork("service", "list", "--socket", socket.toString());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).isEqualTo("meshwork: cannot reach the agent at " + socket
        + ": connection refused. Is meshwork-agent running on this node?\n");
  }

  @Test
  void everyCommandReportsTheUnreachableAgentTheSameWay() {
    Path socket = dir.resolve("none.sock");
    String[][] commands = {
      {"node", "list"}, {"bpf", "tunnel", "list"}, {"service", "list"}, {"bpf", "lb", "list"},
      {"identity", "list"}, {"endpoint", "list"}, {"clustermesh", "status"}
    };
    for (String[] command : commands) {
      String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(command), java.util.stream.Stream.of("-o", "json", "--socket", socket.toString()))
          .toArray(String[]::new);
      CliRun run = meshwork(args);
      assertThat(run.exitCode()).as(String.join(" ", command)).isEqualTo(1);
      assertThat(run.err()).as(String.join(" ", command)).startsWith("meshwork: cannot reach the agent at " + socket);
    }
  }

  @Test
  void anErrorAnsweredByTheAgentNamesTheCallAndTheStatus() throws Exception {
    try (FakeAgent agent = FakeAgent.start(dir.resolve("agent.sock"))) {
      agent.failWith(Status.FAILED_PRECONDITION.withDescription("datapath not initialised yet"));

      CliRun run = meshwork("bpf", "lb", "list", "--socket", agent.socket().toString());

      assertThat(run.exitCode()).isEqualTo(1);
      assertThat(run.err()).isEqualTo("meshwork: the agent at " + agent.socket()
          + " failed ListLoadBalancerEntries: FAILED_PRECONDITION: datapath not initialised yet\n");
    }
  }

  @Test
  void unknownFlagIsAUsageErrorNamingTheFlag() {
    CliRun run = meshwork("node", "list", "--frobnicate");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("Unknown option: '--frobnicate'").contains("Usage: meshwork node list");
  }

  @Test
  void unknownOutputFormatNamesTheAcceptedOnes() {
    CliRun run = meshwork("identity", "list", "-o", "yaml");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("-o").contains("yaml").contains("table, json");
  }

  @Test
  void helpListsEveryCommandGroup() {
    CliRun run = meshwork("--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("Usage: meshwork").contains("--socket=PATH");
    for (String group : new String[] {"node", "bpf", "service", "identity", "endpoint", "clustermesh"}) {
      assertThat(run.out()).containsPattern("(?m)^  " + group + " ");
    }
  }

  @Test
  void aGroupWithoutSubcommandSaysWhichOnesExist() {
    CliRun run = meshwork("bpf");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("'meshwork bpf' needs a subcommand: tunnel, lb");
  }
}
