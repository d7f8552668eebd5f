package dev.meshwork.cni.agent;

import dev.meshwork.cni.grpc.GrpcStatusException;
import dev.meshwork.cni.grpc.UnixSocketGrpcClient;
import dev.meshwork.cni.spec.CniCommand;
import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The agent's EndpointService reached by gRPC over its Unix socket. Each call opens its own
 * connection: the plugin makes one call per process.
 */
public final class UnixSocketAgent implements Agent {

  /** The gRPC method paths of meshwork.v1.EndpointService (agent.proto). */
  static final String SERVICE = "meshwork.v1.EndpointService";

  private final String socketPath;
  private final UnixSocketGrpcClient client;

  public UnixSocketAgent(String socketPath) {
    this.socketPath = socketPath;
    if (!Files.exists(Path.of(socketPath))) {
      // Checked up front so that the error says what is wrong instead of "connection refused".
      throw new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent socket " + socketPath + " does not exist",
          "meshwork-agent is not running on this node (or not ready yet); it creates the socket"
              + " when it starts. Check the agent pod, or the \"agent-socket\" field of the"
              + " network configuration.");
    }
    this.client = new UnixSocketGrpcClient(socketPath);
  }

  /** The full gRPC method name for a verb, e.g. {@code /meshwork.v1.EndpointService/Add}. */
  static String method(CniCommand verb) {
    return "/" + SERVICE + "/" + switch (verb) {
      case ADD -> "Add";
      case DEL -> "Delete";
      case CHECK -> "Check";
      case STATUS -> "Status";
      case GC -> "GarbageCollect";
      case VERSION -> throw new IllegalArgumentException("VERSION is answered by the plugin");
    };
  }

  @Override
  public AgentAnswer call(CniCommand verb, AgentRequest request, Duration deadline) {
    byte[] answer;
    try {
      answer = client.call(method(verb), CniWire.encode(request), deadline);
    } catch (GrpcStatusException e) {
      throw translate(verb, deadline, e);
    }
    try {
      return CniWire.decodeResponse(answer);
    } catch (CniWire.WireException e) {
      throw new CniException(
          CniError.AGENT_BAD_RESPONSE,
          "cannot decode the meshwork agent's answer to " + verb,
          "the agent at " + socketPath + " sent " + answer.length + " bytes that are not a valid"
              + " CniResponse (" + e.getMessage() + "); agent and plugin versions may not match",
          e);
    }
  }

  private CniException translate(CniCommand verb, Duration deadline, GrpcStatusException e) {
    String description = e.description().isEmpty() ? "" : ": " + e.description();
    return switch (e.code()) {
      case GrpcStatusException.UNAVAILABLE -> new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent unreachable at " + socketPath,
          "the call to the agent failed (UNAVAILABLE" + description
              + "); is meshwork-agent running on this node?",
          e);
      case GrpcStatusException.DEADLINE_EXCEEDED -> new CniException(
          CniError.TRY_AGAIN_LATER,
          "meshwork agent did not answer " + verb + " within " + deadline.toMillis() + " ms",
          "the agent at " + socketPath + " is busy or stuck; the runtime should retry (raise"
              + " \"agent-timeout-seconds\" in the network configuration if this is expected)",
          e);
      default -> new CniException(
          CniError.AGENT_CALL_FAILED,
          "meshwork agent failed " + verb,
          "gRPC call " + method(verb) + " on " + socketPath + " ended with " + e.codeName()
              + description,
          e);
    };
  }

  @Override
  public void close() {
    // Nothing held between calls.
  }
}
