package dev.meshwork.cni.agent;

/** Opens the {@link Agent} listening on a Unix socket; tests substitute their own socket path. */
@FunctionalInterface
public interface AgentConnector {
  Agent connect(String socketPath);
}
