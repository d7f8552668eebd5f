package dev.meshwork.bench.scenario;

/** Nearest-rank percentiles of latency samples, as the scenario benchmarks report them. */
public final class Percentile {
  private Percentile() {}

  /** The {@code quantile} (0..1) of {@code sorted} nanoseconds, in milliseconds; 0 for no samples. */
  public static double millis(long[] sorted, double quantile) {
    if (sorted.length == 0) {
      return 0;
    }
    int index = (int) Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1);
    return sorted[Math.max(0, index)] / 1e6;
  }
}
