package dev.meshwork.e2e.sandbox;

/** A sandbox step that failed; the message names the step and the reason. */
public final class SandboxException extends Exception {
  private final String step;

  public SandboxException(String step, String reason, Throwable cause) {
    super("step '" + step + "' failed: " + reason, cause);
    this.step = step;
  }

  public String step() {
    return step;
  }
}
