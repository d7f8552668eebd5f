package dev.meshwork.datapath.bpf;

import java.util.Map;

/** Names of the errno values bpf(2) and the kernel's map code return. */
final class Errno {
  static final int EPERM = 1;
  static final int ENOENT = 2;
  static final int E2BIG = 7;
  static final int EBADF = 9;
  static final int EAGAIN = 11;
  static final int ENOMEM = 12;
  static final int EACCES = 13;
  static final int EFAULT = 14;
  static final int EBUSY = 16;
  static final int EEXIST = 17;
  static final int ENODEV = 19;
  static final int ENOTDIR = 20;
  static final int EINVAL = 22;
  static final int ENOSPC = 28;
  static final int EOPNOTSUPP = 95;
  static final int ENOTSUPP = 524;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(EPERM, "EPERM (operation not permitted)"),
          Map.entry(ENOENT, "ENOENT (no such entry or file)"),
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
          Map.entry(ENOSPC, "ENOSPC (map is full)"),
          Map.entry(EOPNOTSUPP, "EOPNOTSUPP (operation not supported)"),
          Map.entry(ENOTSUPP, "ENOTSUPP (operation not supported for this map type)"));

  private Errno() {}

  static String describe(int errno) {
    return NAMES.getOrDefault(errno, "errno " + errno);
  }
}
