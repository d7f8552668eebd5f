package dev.meshwork.testing.process;

/** A command run by a test helper exited with a non-zero status. */
public final class CommandFailedException extends RuntimeException {
  private final transient CommandResult result;

  public CommandFailedException(CommandResult result) {
    super("command `" + String.join(" ", result.command()) + "` exited with " + result.exitCode()
        + (result.stderr().isBlank() ? "" : ": " + result.stderr().strip()));
    this.result = result;
  }

  public CommandResult result() {
    return result;
  }
}
