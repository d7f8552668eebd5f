package dev.meshwork.kvstore.etcd;

/** A remote-cluster config file that cannot be used; the message names the file and the setting. */
public final class InvalidConfigException extends IllegalArgumentException {
  public InvalidConfigException(String message) {
    super(message);
  }

  public InvalidConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
