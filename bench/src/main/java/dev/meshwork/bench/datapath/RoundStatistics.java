package dev.meshwork.bench.datapath;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Statistics over interleaved rounds: every round measured each configuration once, so the
 * values of two configurations are paired by round, and a comparison resamples whole rounds
 * (a paired bootstrap) to keep what a round's load did to both sides together.
 */
final class RoundStatistics {
  private static final int RESAMPLES = 10_000;

  private RoundStatistics() {}

  static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** The value below which the given fraction of the values lie (nearest rank). */
  static double quantile(double[] values, double fraction) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(fraction * sorted.length))];
  }

  /** A ratio of medians with its bootstrap 95 % confidence interval. */
  record Ratio(double estimate, double low, double high) {
    /** "within 10 %" only if the whole interval lies in [0.9, 1.1]; "not within" if it lies wholly outside. */
    String verdict() {
      if (low >= 0.9 && high <= 1.1) return "within 10 %";
      if (high < 0.9 || low > 1.1) return "not within 10 %";
      return "undecided";
    }

    @Override
    public String toString() {
      return String.format("%.3f [%.3f, %.3f] %s", estimate, low, high, verdict());
    }
  }

  /**
   * median(numerator) / median(denominator) over the rounds, and the 2.5 and 97.5 percentiles of
   * that ratio when the rounds are resampled with replacement (same rounds for both sides).
   */
  static Ratio ratioOfMedians(double[] numerator, double[] denominator, long seed) {
    if (numerator.length != denominator.length || numerator.length == 0) {
      throw new IllegalArgumentException("paired rounds needed: " + numerator.length + " vs " + denominator.length);
    }
    int n = numerator.length;
    SplittableRandom random = new SplittableRandom(seed);
    double[] ratios = new double[RESAMPLES];
    double[] num = new double[n];
    double[] den = new double[n];
    for (int b = 0; b < RESAMPLES; b++) {
      for (int i = 0; i < n; i++) {
        int round = random.nextInt(n);
        num[i] = numerator[round];
        den[i] = denominator[round];
      }
      ratios[b] = median(num) / median(den);
    }
    return new Ratio(median(numerator) / median(denominator), quantile(ratios, 0.025), quantile(ratios, 0.975));
  }
}
