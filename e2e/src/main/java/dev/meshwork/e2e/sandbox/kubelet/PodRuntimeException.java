package dev.meshwork.e2e.sandbox.kubelet;

/** Setting up or tearing down a pod sandbox failed; the message names the pod. */
final class PodRuntimeException extends Exception {

  /** CNI's "try again later". */
  static final int TRY_AGAIN_LATER = 11;

  private final int cniCode;

  PodRuntimeException(String message) {
    this(message, -1, null);
  }

  PodRuntimeException(String message, Throwable cause) {
    this(message, cause instanceof CniException cni ? cni.code() : -1, cause);
  }

  PodRuntimeException(String message, int cniCode, Throwable cause) {
    super(message, cause);
    this.cniCode = cniCode;
  }

  /** The CNI plugin's error code, or -1 when the failure was not a CNI error answer. */
  int cniCode() {
    return cniCode;
  }
}
