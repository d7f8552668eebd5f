package dev.meshwork.cni.json;

/** Malformed JSON: the message says what was expected, {@link #offset()} where. */
public final class JsonException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int offset;

  public JsonException(String message, int offset) {
    super(message + " at offset " + offset);
    this.offset = offset;
  }

  /** The character offset in the input at which the problem was found. */
  public int offset() {
    return offset;
  }
}
