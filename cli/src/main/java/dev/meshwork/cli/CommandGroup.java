package dev.meshwork.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that only groups subcommands (`node`, `bpf`, ...): alone it is a usage error. */
public abstract class CommandGroup implements Runnable {

  @Spec protected CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "'" + spec.qualifiedName() + "' needs a subcommand: "
            + String.join(", ", spec.subcommands().keySet().stream().filter(n -> !n.equals("help")).toList()));
  }
}
