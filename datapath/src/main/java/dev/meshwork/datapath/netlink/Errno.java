package dev.meshwork.datapath.netlink;

import java.util.Map;

/** Names of the errno values that rtnetlink, socket(2), open(2) and setns(2) return. */
final class Errno {
  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int ESRCH = 3;
  static final int EINTR = 4;
  static final int EBADF = 9;
  static final int EAGAIN = 11;
  static final int ENOMEM = 12;
  static final int EACCES = 13;
  static final int EBUSY = 16;
  static final int EEXIST = 17;
  static final int ENODEV = 19;
  static final int ENOTDIR = 20;
  static final int EINVAL = 22;
  static final int ERANGE = 34;
  static final int EPROTONOSUPPORT = 93;
  static final int EOPNOTSUPP = 95;
  static final int EAFNOSUPPORT = 97;
  static final int EADDRINUSE = 98;
  static final int EADDRNOTAVAIL = 99;
  static final int ENETDOWN = 100;
  static final int ENETUNREACH = 101;
  static final int ENOBUFS = 105;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(EPERM, "EPERM (operation not permitted)"),
          Map.entry(ENOENT, "ENOENT (no such file or entry)"),
          Map.entry(ESRCH, "ESRCH (no such process or route)"),
          Map.entry(EINTR, "EINTR (interrupted)"),
          Map.entry(EBADF, "EBADF (bad file descriptor)"),
          Map.entry(EAGAIN, "EAGAIN (try again)"),
          Map.entry(ENOMEM, "ENOMEM (out of memory)"),
          Map.entry(EACCES, "EACCES (permission denied)"),
          Map.entry(EBUSY, "EBUSY (device or resource busy)"),
          Map.entry(EEXIST, "EEXIST (already exists)"),
          Map.entry(ENODEV, "ENODEV (no such device)"),
          Map.entry(ENOTDIR, "ENOTDIR (not a directory)"),
          Map.entry(EINVAL, "EINVAL (invalid argument)"),
          Map.entry(ERANGE, "ERANGE (value out of range)"),
          Map.entry(EPROTONOSUPPORT, "EPROTONOSUPPORT (protocol not supported)"),
          Map.entry(EOPNOTSUPP, "EOPNOTSUPP (operation not supported)"),
          Map.entry(EAFNOSUPPORT, "EAFNOSUPPORT (address family not supported)"),
          Map.entry(EADDRINUSE, "EADDRINUSE (address already in use)"),
          Map.entry(EADDRNOTAVAIL, "EADDRNOTAVAIL (address not available)"),
          Map.entry(ENETDOWN, "ENETDOWN (network is down)"),
          Map.entry(ENETUNREACH, "ENETUNREACH (network unreachable)"),
          Map.entry(ENOBUFS, "ENOBUFS (no buffer space: messages were dropped)"));

  private Errno() {}

  static String describe(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }
}
