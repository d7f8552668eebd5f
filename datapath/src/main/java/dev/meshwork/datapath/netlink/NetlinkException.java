package dev.meshwork.datapath.netlink;

import dev.meshwork.datapath.linux.Errno;

/**
 * A netlink request (or a system call around it) failed. The message names the operation and the
 * object, the errno by name and, when the kernel sent one, its extended-ack explanation.
 */
public final class NetlinkException extends Exception {
  private final int errno;

  public NetlinkException(String what, int errno, String kernelMessage) {
    super(what + ": " + Errno.describe(errno) + (kernelMessage.isEmpty() ? "" : " (kernel: " + kernelMessage + ")"));
    this.errno = errno;
  }

  public NetlinkException(String what, int errno) {
    this(what, errno, "");
  }

  /** A failure that is not a system call's: malformed reply, interrupted dump. */
  public NetlinkException(String message) {
    super(message);
    this.errno = 0;
  }

  /** The kernel's errno (positive), 0 when the failure was not a system call error. */
  public int errno() {
    return errno;
  }

  /** The object does not exist: ENODEV for links, ENOENT for files, ESRCH for routes. */
  public boolean isNotFound() {
    return errno == Errno.ENODEV || errno == Errno.ENOENT || errno == Errno.ESRCH;
  }

  /** The object exists already (EEXIST). */
  public boolean isAlreadyExists() {
    return errno == Errno.EEXIST;
  }
}
