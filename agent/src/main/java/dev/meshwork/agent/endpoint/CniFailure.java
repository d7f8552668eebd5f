package dev.meshwork.agent.endpoint;

import dev.meshwork.proto.v1.CniError;

/**
 * A CNI call the endpoint manager refuses or could not complete, with the code the runtime sees.
 * Codes below 100 are the CNI specification's; 110 and up are Meshwork's (docs/endpoints.md).
 */
public final class CniFailure extends Exception {
  /** CNI: unknown container (CHECK of an attachment this node does not have). */
  public static final int UNKNOWN_CONTAINER = 3;
  /** CNI: invalid environment variables (e.g. K8S_POD_NAME missing from CNI_ARGS). */
  public static final int INVALID_ENVIRONMENT = 4;
  /** CNI: invalid network configuration (e.g. an MTU out of range). */
  public static final int INVALID_CONFIG = 7;
  /** CNI: try again later (e.g. the agent is still restoring its endpoints). */
  public static final int TRY_AGAIN_LATER = 11;
  /** CNI STATUS: the plugin cannot serve ADDs. */
  public static final int NOT_AVAILABLE = 50;
  /** The attachment or the interface in the pod already exists. */
  public static final int ALREADY_EXISTS = 110;
  /** The node's pod CIDR has no free address. */
  public static final int NO_ADDRESS = 111;
  /** The operator did not publish the pod's identity in time. */
  public static final int NO_IDENTITY = 112;
  /** Creating or configuring the veth pair failed. */
  public static final int LINK_FAILED = 113;
  /** Programming the datapath failed. */
  public static final int DATAPATH_FAILED = 114;
  /** The endpoint state could not be written to or removed from disk. */
  public static final int STATE_FAILED = 115;
  /** CHECK found the interface, routes or datapath different from what ADD set up. */
  public static final int CHECK_FAILED = 116;

  /** An unexpected failure inside the agent (a bug); details carry the exception. */
  public static final int INTERNAL = 117;

  private final int code;
  private final String details;

  public CniFailure(int code, String msg, String details) {
    super(msg);
    this.code = code;
    this.details = details;
  }

  public CniFailure(int code, String msg, String details, Throwable cause) {
    super(msg, cause);
    this.code = code;
    this.details = details;
  }

  public int code() {
    return code;
  }

  public String details() {
    return details;
  }

  public CniError toCniError() {
    return CniError.newBuilder().setCode(code).setMsg(getMessage()).setDetails(details).build();
  }
}
