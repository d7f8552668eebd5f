package dev.meshwork.cni.agent;

import dev.meshwork.cni.spec.CniCommand;
import java.time.Duration;

/** The node's meshwork-agent as the CNI plugin sees it: one call per CNI verb. */
public interface Agent extends AutoCloseable {

  /**
   * Forwards one CNI invocation and returns the agent's answer (a result or a CNI error).
   *
   * @throws dev.meshwork.cni.spec.CniException code 11 when the agent cannot be reached or does
   *     not answer within {@code deadline}, 100 when the call fails otherwise, 101 when the
   *     answer cannot be decoded
   */
  AgentAnswer call(CniCommand verb, AgentRequest request, Duration deadline);

  @Override
  void close();
}
