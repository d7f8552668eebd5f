package dev.meshwork.cli;

/**
 * A failure the user can act on (agent down, bad input, files in the way). The CLI prints its
 * message as one line prefixed with "meshwork: " and exits 1, without a stack trace.
 */
public class CliFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public CliFailure(String message) {
    super(message);
  }

  public CliFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
