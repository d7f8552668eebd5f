package dev.meshwork.cni.agent;

import dev.meshwork.cni.spec.CniError;
import dev.meshwork.cni.spec.CniResult;

/** The agent's answer to one call (agent.proto's CniResponse): a result or a CNI error. */
public sealed interface AgentAnswer {

  /** The call succeeded; for verbs other than ADD the result is empty. */
  record Success(CniResult result) implements AgentAnswer {}

  /** The agent refused or failed the call with a CNI error, passed on to the runtime. */
  record Failure(CniError error) implements AgentAnswer {}
}
