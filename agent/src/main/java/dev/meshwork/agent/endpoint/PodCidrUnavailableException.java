package dev.meshwork.agent.endpoint;

/** The node's pod CIDR did not become known in time; the message says what was looked at. */
public final class PodCidrUnavailableException extends Exception {
  public PodCidrUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
