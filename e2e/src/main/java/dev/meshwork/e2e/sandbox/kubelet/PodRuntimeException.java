package dev.meshwork.e2e.sandbox.kubelet;

/** Setting up or tearing down a pod sandbox failed; the message names the pod. */
final class PodRuntimeException extends Exception {

  PodRuntimeException(String message) {
    super(message);
  }

  PodRuntimeException(String message, Throwable cause) {
    super(message, cause);
  }
}
