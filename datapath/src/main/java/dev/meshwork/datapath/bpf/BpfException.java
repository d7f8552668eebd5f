package dev.meshwork.datapath.bpf;

import dev.meshwork.datapath.linux.Errno;
import dev.meshwork.datapath.DatapathException;

/** A bpf(2) call failed; the message names the command, the object and the errno. */
public final class BpfException extends DatapathException {
  private final int errno;

  public BpfException(String message, int errno) {
    super(message + ": " + Errno.describe(errno));
    this.errno = errno;
  }

  public BpfException(String message, Throwable cause) {
    super(message, cause);
    this.errno = 0;
  }

  /** The kernel's errno, 0 when the failure was not a syscall error. */
  public int errno() {
    return errno;
  }
}
