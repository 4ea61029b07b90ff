package io.tunefleet.ml.report;

import java.util.SplittableRandom;

/**
 * Projection of centred data onto its top principal directions, found by subspace iteration on the
 * covariance with a few extra vectors and a Rayleigh–Ritz step, so a 512-wide covariance costs
 * matrix products instead of a full eigen-decomposition.
 */
final class Pca {
  private static final int OVERSAMPLING = 10;
  private static final int SUBSPACE_STEPS = 30;

  private Pca() {}

  /** Rows of {@code x} as coordinates in the {@code dims} leading principal directions. */
  static double[][] project(double[][] x, int dims, long seed) {
    int n = x.length;
    int d = x[0].length;
    double[][] centred = centred(x);
    double[] cov = covariance(centred, d);
    int m = Math.min(d, dims + OVERSAMPLING);
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] basis = new double[d][m];
    for (double[] row : basis) {
      for (int c = 0; c < m; c++) {
        row[c] = rng.nextGaussian();
      }
    }
    orthonormalise(basis);
    for (int step = 0; step < SUBSPACE_STEPS; step++) {
      basis = multiply(cov, d, basis);
      orthonormalise(basis);
    }
    SymmetricEigen ritz = SymmetricEigen.of(transposeTimes(basis, multiply(cov, d, basis)));
    int k = Math.min(dims, m);
    double[][] directions = new double[d][k];
    for (int i = 0; i < d; i++) {
      for (int c = 0; c < k; c++) {
        double s = 0;
        for (int r = 0; r < m; r++) {
          s += basis[i][r] * ritz.vectors()[r][c];
        }
        directions[i][c] = s;
      }
    }
    double[][] out = new double[n][k];
    for (int r = 0; r < n; r++) {
      for (int i = 0; i < d; i++) {
        double xi = centred[r][i];
        double[] dir = directions[i];
        for (int c = 0; c < k; c++) {
          out[r][c] += xi * dir[c];
        }
      }
    }
    return out;
  }

  private static double[][] centred(double[][] x) {
    int d = x[0].length;
    double[] mean = new double[d];
    for (double[] row : x) {
      for (int i = 0; i < d; i++) {
        mean[i] += row[i] / x.length;
      }
    }
    double[][] out = new double[x.length][d];
    for (int r = 0; r < x.length; r++) {
      for (int i = 0; i < d; i++) {
        out[r][i] = x[r][i] - mean[i];
      }
    }
    return out;
  }

  /** XᵀX as a row-major d×d array (unscaled: only the directions matter). */
  private static double[] covariance(double[][] centred, int d) {
    double[] cov = new double[d * d];
    for (double[] row : centred) {
      for (int a = 0; a < d; a++) {
        double xa = row[a];
        int base = a * d;
        for (int b = a; b < d; b++) {
          cov[base + b] += xa * row[b];
        }
      }
    }
    for (int a = 0; a < d; a++) {
      for (int b = 0; b < a; b++) {
        cov[a * d + b] = cov[b * d + a];
      }
    }
    return cov;
  }

  private static double[][] multiply(double[] cov, int d, double[][] basis) {
    int m = basis[0].length;
    double[][] out = new double[d][m];
    for (int a = 0; a < d; a++) {
      double[] target = out[a];
      for (int b = 0; b < d; b++) {
        double c = cov[a * d + b];
        double[] src = basis[b];
        for (int k = 0; k < m; k++) {
          target[k] += c * src[k];
        }
      }
    }
    return out;
  }

  private static double[][] transposeTimes(double[][] a, double[][] b) {
    int m = a[0].length;
    double[][] out = new double[m][m];
    for (int i = 0; i < a.length; i++) {
      for (int p = 0; p < m; p++) {
        for (int q = 0; q < m; q++) {
          out[p][q] += a[i][p] * b[i][q];
        }
      }
    }
    return out;
  }

  /**
   * Modified Gram–Schmidt on the columns. A column that collapses (the data has lower rank than the
   * subspace) is zeroed: it then carries no coordinate, which leaves distances unchanged.
   */
  private static void orthonormalise(double[][] q) {
    int d = q.length;
    int m = q[0].length;
    double largest = 0;
    for (int c = 0; c < m; c++) {
      for (int p = 0; p < c; p++) {
        double dot = 0;
        for (int i = 0; i < d; i++) {
          dot += q[i][c] * q[i][p];
        }
        for (int i = 0; i < d; i++) {
          q[i][c] -= dot * q[i][p];
        }
      }
      double norm = 0;
      for (int i = 0; i < d; i++) {
        norm += q[i][c] * q[i][c];
      }
      norm = Math.sqrt(norm);
      largest = Math.max(largest, norm);
      double inv = norm > 1e-12 * largest ? 1 / norm : 0;
      for (int i = 0; i < d; i++) {
        q[i][c] *= inv;
      }
    }
  }
}
