package dev.meshwork.datapath;

/** A datapath operation failed; the message names the entry and the kernel's answer. */
public class DatapathException extends Exception {
  public DatapathException(String message) {
    super(message);
  }

  public DatapathException(String message, Throwable cause) {
    super(message, cause);
  }
}
