package dev.meshwork.cni.spec;

/** Ends a CNI invocation with the given error; {@link dev.meshwork.cni.CniPlugin} prints it. */
public final class CniException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient CniError error;

  public CniException(int code, String msg, String details) {
    this(new CniError(code, msg, details), null);
  }

  public CniException(int code, String msg, String details, Throwable cause) {
    this(new CniError(code, msg, details), cause);
  }

  public CniException(CniError error, Throwable cause) {
    super(error.msg() + (error.details().isEmpty() ? "" : ": " + error.details()), cause);
    this.error = error;
  }

  public CniError error() {
    return error;
  }
}
