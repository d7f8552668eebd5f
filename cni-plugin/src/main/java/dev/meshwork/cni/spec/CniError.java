package dev.meshwork.cni.spec;

/**
 * An error as CNI prints it: {@code {"cniVersion", "code", "msg", "details"}} on stdout with a
 * non-zero exit status. Codes below 100 are the specification's; 100 and above are Meshwork's
 * own (documented in docs/cni.md).
 */
public record CniError(int code, String msg, String details) {

  /** 1: the configuration's cniVersion is not one this plugin supports. */
  public static final int INCOMPATIBLE_VERSION = 1;
  /** 2: a field of the network configuration is not supported. */
  public static final int UNSUPPORTED_FIELD = 2;
  /** 3: the container is unknown (the runtime need not clean up). */
  public static final int UNKNOWN_CONTAINER = 3;
  /** 4: a required CNI_* environment variable is missing or invalid. */
  public static final int INVALID_ENVIRONMENT = 4;
  /** 5: an I/O failure, such as not being able to read stdin. */
  public static final int IO_FAILURE = 5;
  /** 6: content (the configuration JSON, a version string) could not be decoded. */
  public static final int DECODING_FAILURE = 6;
  /** 7: the network configuration is well-formed JSON but not valid. */
  public static final int INVALID_NETWORK_CONFIG = 7;
  /** 11: a transient condition (agent down or busy); the runtime should retry. */
  public static final int TRY_AGAIN_LATER = 11;
  /** 50: STATUS: the plugin cannot serve ADDs right now. */
  public static final int PLUGIN_NOT_AVAILABLE = 50;

  /** 100: the agent failed the call with an unexpected gRPC status. */
  public static final int AGENT_CALL_FAILED = 100;
  /** 101: the agent answered with something that is neither a result nor a CNI error. */
  public static final int AGENT_BAD_RESPONSE = 101;
  // 102 is the launcher's: the plugin's files were not found (bin/meshwork-cni).
  /** 103: a bug in the plugin itself (an unexpected exception). */
  public static final int PLUGIN_BUG = 103;

  public CniError {
    if (code <= 0) {
      throw new IllegalArgumentException("CNI error code must be positive, got " + code);
    }
    msg = msg == null ? "" : msg;
    details = details == null ? "" : details;
  }
}
