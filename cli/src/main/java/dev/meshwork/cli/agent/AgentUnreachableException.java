package dev.meshwork.cli.agent;

import dev.meshwork.cli.CliFailure;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Locale;

/** The agent's socket is missing or refuses connections: the agent is most likely not running. */
public final class AgentUnreachableException extends CliFailure {

  private static final long serialVersionUID = 1L;

  public AgentUnreachableException(Path socket, String reason) {
    super(message(socket, reason));
  }

  public AgentUnreachableException(Path socket, String reason, Throwable cause) {
    super(message(socket, reason), cause);
  }

  private static String message(Path socket, String reason) {
    return "cannot reach the agent at " + socket + ": " + reason + ". Is meshwork-agent running on this node?";
  }

  /**
   * Translates a failed call. UNAVAILABLE (socket refused, agent gone) and DEADLINE_EXCEEDED (agent
   * hung) mean "cannot reach the agent"; any other status is the agent's own answer and is reported
   * with the call's name.
   */
  public static CliFailure fromCall(Path socket, String call, StatusRuntimeException e) {
    Status status = e.getStatus();
    return switch (status.getCode()) {
      case UNAVAILABLE -> new AgentUnreachableException(socket, describe(status), e);
      case DEADLINE_EXCEEDED ->
          new AgentUnreachableException(
              socket, "no answer within " + AgentConnection.CALL_TIMEOUT.toSeconds() + " s", e);
      default ->
          new CliFailure(
              "the agent at " + socket + " failed " + call + ": " + status.getCode()
                  + (status.getDescription() == null ? "" : ": " + status.getDescription()),
              e);
    };
  }

  private static String describe(Status status) {
    // Netty reports the errno text ("Connection refused", ...) in the innermost cause.
    Throwable cause = status.getCause();
    while (cause != null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    String text = cause != null && cause.getMessage() != null ? cause.getMessage() : status.getDescription();
    if (text == null || text.isBlank()) {
      return "unavailable";
    }
    String lower = text.toLowerCase(Locale.ROOT);
    if (lower.contains("connection refused")) {
      return "connection refused";
    }
    if (lower.contains("no such file")) {
      return "no such socket";
    }
    if (lower.contains("permission denied")) {
      return "permission denied (run as root or as a member of the socket's group)";
    }
    return text;
  }
}
