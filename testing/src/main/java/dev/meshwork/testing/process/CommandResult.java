package dev.meshwork.testing.process;

import java.util.List;

/**
 * The outcome of a command run by {@link Command}.
 *
 * @param command the command line
 * @param exitCode the exit status
 * @param stdout what it printed on standard output
 * @param stderr what it printed on standard error
 */
public record CommandResult(List<String> command, int exitCode, String stdout, String stderr) {
  public boolean succeeded() {
    return exitCode == 0;
  }

  /** This result when the command succeeded, otherwise an exception quoting the command and its stderr. */
  public CommandResult orThrow() {
    if (exitCode != 0) {
      throw new CommandFailedException(this);
    }
    return this;
  }

  /** Standard output of a successful command, trimmed. */
  public String output() {
    return orThrow().stdout.strip();
  }
}
