package io.tunefleet.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Summaries over seeds for RESULTS.md: mean ± sample standard deviation, and the difference of two
 * configurations with its 95 % Student-t interval — paired when both ran the same seeds (same split, sampling
 * order and augmentation draws), Welch's otherwise. A difference whose interval contains 0 is reported as no
 * measurable difference.
 */
final class SeedStats {
  // two-sided 95 % quantiles of Student's t for 1..30 degrees of freedom
  private static final double[] T95 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201,
      2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052,
      2.048, 2.045, 2.042};

  /** A difference {@code mean} with its 95 % interval {@code [low, high]}. */
  record Difference(double mean, double low, double high) {
    String verdict() {
      return low > 0 ? "better" : high < 0 ? "worse" : "no measurable difference";
    }

    /** In points (hundredths): "+0.62 (−0.21 … +1.45)". */
    String points() {
      return String.format(Locale.ROOT, "%+.2f (%+.2f … %+.2f)", 100 * mean, 100 * low, 100 * high).replace('-', '−');
    }
  }

  private SeedStats() {}

  static double mean(double[] v) {
    return Arrays.stream(v).average().orElse(Double.NaN);
  }

  static double sd(double[] v) {
    double m = mean(v);
    return Math.sqrt(Arrays.stream(v).map(x -> (x - m) * (x - m)).sum() / Math.max(1, v.length - 1));
  }

  /** "0.9318 ± 0.0041". */
  static String pm(double[] v) {
    return String.format(Locale.ROOT, "%.4f ± %.4f", mean(v), sd(v));
  }

  /** {@code a − b} seed by seed. */
  static Difference paired(double[] a, double[] b) {
    if (a.length != b.length || a.length < 2) {
      throw new IllegalArgumentException("a paired difference needs the same seeds on both sides, at least 2");
    }
    double[] d = new double[a.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = a[i] - b[i];
    }
    double half = t95(d.length - 1) * sd(d) / Math.sqrt(d.length);
    return new Difference(mean(d), mean(d) - half, mean(d) + half);
  }

  /** {@code mean(a) − mean(b)} for independent samples (Welch–Satterthwaite degrees of freedom). */
  static Difference welch(double[] a, double[] b) {
    if (a.length < 2 || b.length < 2) {
      throw new IllegalArgumentException("Welch's interval needs at least 2 values on each side");
    }
    double va = sd(a) * sd(a) / a.length;
    double vb = sd(b) * sd(b) / b.length;
    double se = Math.sqrt(va + vb);
    double df = se == 0 ? a.length + b.length - 2
        : (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
    double m = mean(a) - mean(b);
    double half = t95((int) Math.floor(df)) * se;
    return new Difference(m, m - half, m + half);
  }

  static double t95(int df) {
    if (df < 1) {
      throw new IllegalArgumentException("degrees of freedom must be >= 1, was " + df);
    }
    if (df <= T95.length) {
      return T95[df - 1];
    }
    // Cornish-Fisher expansion around the normal quantile: within 0.0005 of the exact value beyond 30
    double z = 1.959964;
    return z + (z * z * z + z) / (4 * df) + (5 * Math.pow(z, 5) + 16 * z * z * z + 3 * z) / (96.0 * df * df);
  }
}
