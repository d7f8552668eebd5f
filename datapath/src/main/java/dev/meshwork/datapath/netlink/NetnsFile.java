package dev.meshwork.datapath.netlink;

import java.nio.file.Path;

/**
 * An open network namespace file ({@code /run/netns/<name>}, {@code /proc/<pid>/ns/net}): the fd
 * that {@code IFLA_NET_NS_FD} and setns(2) take. Holding it keeps the namespace alive.
 */
public final class NetnsFile implements AutoCloseable {
  private final Path path;
  private final int fd;

  private NetnsFile(Path path, int fd) {
    this.path = path;
    this.fd = fd;
  }

  /** Opens {@code path}; fails with ENOENT ({@link NetlinkException#isNotFound}) when it does not exist. */
  public static NetnsFile open(Path path) throws NetlinkException {
    int fd = LibC.open(path.toString(), LibC.O_RDONLY | LibC.O_CLOEXEC);
    if (fd < 0) {
      throw new NetlinkException("cannot open network namespace " + path, -fd);
    }
    return new NetnsFile(path, fd);
  }

  /** The namespace of the calling thread ({@code /proc/self} would be the main thread's). */
  static NetnsFile ofCurrentThread() throws NetlinkException {
    return open(Path.of("/proc/thread-self/ns/net"));
  }

  int fd() {
    return fd;
  }

  @Override
  public void close() {
    LibC.close(fd);
  }

  @Override
  public String toString() {
    return "network namespace " + path;
  }
}
