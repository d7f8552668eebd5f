package dev.meshwork.common.lifecycle;

/** A start hook failed (the components started before it have been stopped again), or the
 * lifecycle was used out of order. */
public final class LifecycleException extends RuntimeException {
  private final String hook;

  public LifecycleException(String hook, String message, Throwable cause) {
    super(message, cause);
    this.hook = hook;
  }

  /** The name of the hook that failed, or null when the error is not about one hook. */
  public String hook() {
    return hook;
  }
}
