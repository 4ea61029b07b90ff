package io.tunefleet.ml.report;

/**
 * The input-space similarities of t-SNE: per-point Gaussian conditionals calibrated to a perplexity,
 * and their symmetrised joint distribution.
 */
final class Affinities {
  static final double ENTROPY_TOLERANCE = 1e-5;
  private static final int MAX_SEARCH_STEPS = 200;
  // Keeps log(P) finite in the gradient and matches the reference implementation's floor.
  private static final double MIN_JOINT = 1e-12;

  private Affinities() {}

  /**
   * Fills {@code p} with P(j|i) ∝ exp(-β·d_ij) over j ≠ {@code self}, searching β so that the Shannon
   * entropy (nats) equals ln(perplexity). Returns the β found (β = 1/(2σ²)).
   */
  static double conditional(double[] sqDist, int self, double perplexity, double[] p) {
    int n = sqDist.length;
    // Distances are shifted by the nearest neighbour's so exp() never underflows to an all-zero row,
    // whatever the data's scale; the shift cancels in the normalisation.
    double nearest = Double.POSITIVE_INFINITY;
    double mean = 0;
    for (int j = 0; j < n; j++) {
      if (j != self) {
        nearest = Math.min(nearest, sqDist[j]);
        mean += sqDist[j];
      }
    }
    mean = mean / (n - 1) - nearest;
    double target = Math.log(perplexity);
    double beta = mean > 0 ? 1 / mean : 1;
    double lo = 0;
    double hi = Double.POSITIVE_INFINITY;
    for (int step = 0; step < MAX_SEARCH_STEPS; step++) {
      double diff = fill(sqDist, self, nearest, beta, p) - target;
      if (Math.abs(diff) < ENTROPY_TOLERANCE) {
        break;
      }
      if (diff > 0) {
        lo = beta;
        beta = hi == Double.POSITIVE_INFINITY ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
    return beta;
  }

  /** Writes the normalised row into {@code p} and returns its entropy in nats. */
  private static double fill(double[] sqDist, int self, double nearest, double beta, double[] p) {
    double sum = 0;
    double weighted = 0;
    for (int j = 0; j < sqDist.length; j++) {
      if (j == self) {
        p[j] = 0;
        continue;
      }
      double shifted = sqDist[j] - nearest;
      double v = Math.exp(-beta * shifted);
      p[j] = v;
      sum += v;
      weighted += shifted * v;
    }
    for (int j = 0; j < p.length; j++) {
      p[j] /= sum;
    }
    return Math.log(sum) + beta * weighted / sum;
  }

  /** Symmetrised P_ij = (P(j|i) + P(i|j)) / 2n as a row-major n×n array. */
  static double[] joint(double[][] x, double perplexity) {
    int n = x.length;
    double[] conditionals = new double[n * n];
    double[] sqDist = new double[n];
    double[] row = new double[n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        sqDist[j] = squaredDistance(x[i], x[j]);
      }
      conditional(sqDist, i, perplexity, row);
      System.arraycopy(row, 0, conditionals, i * n, n);
    }
    double[] joint = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        double v = (conditionals[i * n + j] + conditionals[j * n + i]) / (2.0 * n);
        joint[i * n + j] = i == j ? 0 : Math.max(v, MIN_JOINT);
      }
    }
    return joint;
  }

  static double squaredDistance(double[] a, double[] b) {
    double s = 0;
    for (int k = 0; k < a.length; k++) {
      double t = a[k] - b[k];
      s += t * t;
    }
    return s;
  }
}
