package dev.meshwork.cli;

import dev.meshwork.cli.clustermesh.ClusterMeshCommand;
import dev.meshwork.cli.inspect.BpfCommand;
import dev.meshwork.cli.inspect.EndpointCommand;
import dev.meshwork.cli.inspect.IdentityCommand;
import dev.meshwork.cli.inspect.NodeCommand;
import dev.meshwork.cli.inspect.ServiceCommand;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `meshwork`: inspection of the local agent (over its Unix socket) and clustermesh administration
 * (certificates, the clustermesh Secret, host aliases).
 */
@Command(
    name = "meshwork",
    mixinStandardHelpOptions = true,
    versionProvider = MeshworkCli.Version.class,
    description = "Inspect the local Meshwork agent and connect clusters into a mesh.",
    subcommands = {
      NodeCommand.class,
      BpfCommand.class,
      ServiceCommand.class,
      IdentityCommand.class,
      EndpointCommand.class,
      ClusterMeshCommand.class,
      CommandLine.HelpCommand.class
    })
public final class MeshworkCli implements Runnable {

  public static final String DEFAULT_SOCKET = "/var/run/meshwork/agent.sock";

  @Option(
      names = "--socket",
      paramLabel = "PATH",
      defaultValue = "${env:MESHWORK_AGENT_SOCKET:-" + DEFAULT_SOCKET + "}",
      description = "The agent's API socket (env MESHWORK_AGENT_SOCKET; default: " + DEFAULT_SOCKET + ").")
  private Path socket;

  @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command tree with the CLI's error handling, writing to standard out and err. */
  public static CommandLine commandLine() {
    return commandLine(
        new PrintWriter(System.out, true), new PrintWriter(System.err, true));
  }

  /** The command tree with the CLI's error handling, writing to the given streams (tests). */
  public static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new MeshworkCli());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler(
        (e, cmd, parseResult) -> {
          if (e instanceof CliFailure failure) {
            cmd.getErr().println("meshwork: " + failure.getMessage());
            cmd.getErr().flush();
            return 1;
          }
          throw e;
        });
    return commandLine;
  }

  /** The agent socket chosen with --socket or MESHWORK_AGENT_SOCKET. */
  public Path socket() {
    return socket;
  }

  @Override
  public void run() {
    // `meshwork` alone: show what it can do.
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The version from the jar manifest (absent when run from classes, e.g. in tests). */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = MeshworkCli.class.getPackage().getImplementationVersion();
      return new String[] {"meshwork " + (version == null ? "(development build)" : version)};
    }
  }
}
