package dev.meshwork.kvstore.key;

/** A kvstore key that does not follow the key layout; the message names the key. */
public final class InvalidKeyException extends IllegalArgumentException {
  private final String key;

  public InvalidKeyException(String key, String reason) {
    super("invalid kvstore key '" + key + "': " + reason);
    this.key = key;
  }

  public InvalidKeyException(String key, String reason, Throwable cause) {
    super("invalid kvstore key '" + key + "': " + reason, cause);
    this.key = key;
  }

  /** The offending key. */
  public String key() {
    return key;
  }
}
