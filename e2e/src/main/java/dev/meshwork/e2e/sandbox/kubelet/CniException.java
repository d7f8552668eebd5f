package dev.meshwork.e2e.sandbox.kubelet;

/** A CNI plugin failed: its error answer ({@code code}, {@code msg}, {@code details}) or why it gave none. */
final class CniException extends Exception {

  private final int code;

  CniException(int code, String message) {
    super(message);
    this.code = code;
  }

  CniException(String message, Throwable cause) {
    super(message, cause);
    this.code = -1;
  }

  /** The CNI error code, or -1 when the plugin gave no error answer (it could not be run, timed out, ...). */
  int code() {
    return code;
  }
}
