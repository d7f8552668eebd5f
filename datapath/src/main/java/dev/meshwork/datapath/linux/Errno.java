package dev.meshwork.datapath.linux;

import java.util.Map;

/**
 * Names of the errno values that the kernel calls of the datapath return: bpf(2) and the map code,
 * rtnetlink, socket(2), open(2) and setns(2). One table, so a message names an errno the same way
 * whichever call failed.
 */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int ESRCH = 3;
  public static final int EINTR = 4;
  public static final int E2BIG = 7;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EFAULT = 14;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int ENODEV = 19;
  public static final int ENOTDIR = 20;
  public static final int EINVAL = 22;
  public static final int ENOSPC = 28;
  public static final int ERANGE = 34;
  public static final int EPROTONOSUPPORT = 93;
  public static final int EOPNOTSUPP = 95;
  public static final int EAFNOSUPPORT = 97;
  public static final int EADDRINUSE = 98;
  public static final int EADDRNOTAVAIL = 99;
  public static final int ENETDOWN = 100;
  public static final int ENETUNREACH = 101;
  public static final int ENOBUFS = 105;
  /** The kernel-internal "not supported" that bpf(2) leaks for some map types and operations. */
  public static final int ENOTSUPP = 524;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(EPERM, "EPERM (operation not permitted)"),
          Map.entry(ENOENT, "ENOENT (no such file or entry)"),
          Map.entry(ESRCH, "ESRCH (no such process or route)"),
          Map.entry(EINTR, "EINTR (interrupted)"),
          Map.entry(E2BIG, "E2BIG (argument list too long)"),
          Map.entry(EBADF, "EBADF (bad file descriptor)"),
          Map.entry(EAGAIN, "EAGAIN (try again)"),
          Map.entry(ENOMEM, "ENOMEM (out of memory)"),
          Map.entry(EACCES, "EACCES (permission denied)"),
          Map.entry(EFAULT, "EFAULT (bad address)"),
          Map.entry(EBUSY, "EBUSY (device or resource busy)"),
          Map.entry(EEXIST, "EEXIST (already exists)"),
          Map.entry(ENODEV, "ENODEV (no such device)"),
          Map.entry(ENOTDIR, "ENOTDIR (not a directory)"),
          Map.entry(EINVAL, "EINVAL (invalid argument)"),
          Map.entry(ENOSPC, "ENOSPC (no space left: a map is full)"),
          Map.entry(ERANGE, "ERANGE (value out of range)"),
          Map.entry(EPROTONOSUPPORT, "EPROTONOSUPPORT (protocol not supported)"),
          Map.entry(EOPNOTSUPP, "EOPNOTSUPP (operation not supported)"),
          Map.entry(EAFNOSUPPORT, "EAFNOSUPPORT (address family not supported)"),
          Map.entry(EADDRINUSE, "EADDRINUSE (address already in use)"),
          Map.entry(EADDRNOTAVAIL, "EADDRNOTAVAIL (address not available)"),
          Map.entry(ENETDOWN, "ENETDOWN (network is down)"),
          Map.entry(ENETUNREACH, "ENETUNREACH (network unreachable)"),
          Map.entry(ENOBUFS, "ENOBUFS (no buffer space: messages were dropped)"),
          Map.entry(ENOTSUPP, "ENOTSUPP (operation not supported for this map type)"));

  private Errno() {}

  /** The errno's name and meaning, e.g. {@code "EEXIST (already exists)"}; {@code "errno N"} for others. */
  public static String describe(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }
}
