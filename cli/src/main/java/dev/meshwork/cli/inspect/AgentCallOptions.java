package dev.meshwork.cli.inspect;

import dev.meshwork.cli.MeshworkCli;
import dev.meshwork.cli.output.OutputFormat;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/** The options every command that calls the agent takes: the output format and the socket. */
public final class AgentCallOptions {

  @Option(
      names = {"-o", "--output"},
      defaultValue = "table",
      paramLabel = "FORMAT",
      description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  // Also accepted after the subcommand; without it the root's --socket (or its default) applies.
  @Option(
      names = "--socket",
      paramLabel = "PATH",
      description = "The agent's API socket (env MESHWORK_AGENT_SOCKET; default: " + MeshworkCli.DEFAULT_SOCKET + ").")
  Path socket;

  boolean json() {
    return output == OutputFormat.json;
  }

  /** The socket given to this command, else the root command's. */
  Path socket(CommandSpec spec) {
    return socket != null ? socket : ((MeshworkCli) spec.root().userObject()).socket();
  }
}
