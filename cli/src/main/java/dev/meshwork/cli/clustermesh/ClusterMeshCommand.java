package dev.meshwork.cli.clustermesh;

import dev.meshwork.cli.CommandGroup;
import dev.meshwork.cli.inspect.ClusterMeshStatusCommand;
import picocli.CommandLine.Command;

/** `meshwork clustermesh`: the agent's view of the mesh, and the certificates that build it. */
@Command(
    name = "clustermesh",
    description = "Connect clusters (CAs, client certificates, the clustermesh Secret) and show their status.",
    subcommands = {ClusterMeshStatusCommand.class, CaCommand.class, ConnectCommand.class, DisconnectCommand.class})
public final class ClusterMeshCommand extends CommandGroup {}
