package dev.meshwork.agent.endpoint;

/** Setting up, inspecting or removing a pod's interfaces failed; the message names the interface and the command's answer. */
public final class LinkException extends Exception {
  public LinkException(String message) {
    super(message);
  }

  public LinkException(String message, Throwable cause) {
    super(message, cause);
  }
}
