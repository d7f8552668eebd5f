package dev.meshwork.bench.scenario;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this JVM and of the etcd process. On a shared machine wall-clock figures mostly
 * measure the neighbours; CPU time says what the work itself costs.
 */
public final class CpuTime {
  private static final long NANOS_PER_TICK = 10_000_000L; // USER_HZ = 100 on Linux

  private CpuTime() {}

  /** CPU time used by this JVM so far, in nanoseconds. */
  public static long jvm() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /** CPU time (user + system) used by process {@code pid} so far, in nanoseconds. */
  public static long process(int pid) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the CPU time of pid " + pid, e);
    }
  }

  /** The 1-minute load average, to record the conditions of a run. */
  public static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }
}
