package dev.meshwork.cni.grpc;

/**
 * A unary call that did not end with status OK: {@link #code()} is the gRPC status code (the
 * numbers of io.grpc.Status.Code, e.g. 4 DEADLINE_EXCEEDED, 14 UNAVAILABLE).
 */
public final class GrpcStatusException extends Exception {
  private static final long serialVersionUID = 1L;

  public static final int CANCELLED = 1;
  public static final int UNKNOWN = 2;
  public static final int DEADLINE_EXCEEDED = 4;
  public static final int PERMISSION_DENIED = 7;
  public static final int RESOURCE_EXHAUSTED = 8;
  public static final int UNIMPLEMENTED = 12;
  public static final int INTERNAL = 13;
  public static final int UNAVAILABLE = 14;
  public static final int UNAUTHENTICATED = 16;

  private static final String[] NAMES = {
    "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"
  };

  private final int code;
  private final String description;

  public GrpcStatusException(int code, String description) {
    this(code, description, null);
  }

  public GrpcStatusException(int code, String description, Throwable cause) {
    super(codeName(code) + (description.isEmpty() ? "" : ": " + description), cause);
    this.code = code;
    this.description = description;
  }

  public int code() {
    return code;
  }

  public String codeName() {
    return codeName(code);
  }

  public String description() {
    return description;
  }

  public static String codeName(int code) {
    return code >= 0 && code < NAMES.length ? NAMES[code] : "CODE_" + code;
  }
}
