package io.tunefleet.ml.report;

import java.util.Arrays;

/**
 * Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations, eigenvalues sorted in
 * descending order; {@code vectors[i][c]} is component i of eigenvector c.
 */
record SymmetricEigen(double[] values, double[][] vectors) {
  private static final int MAX_SWEEPS = 100;

  static SymmetricEigen of(double[][] matrix) {
    int m = matrix.length;
    double[][] a = new double[m][];
    for (int i = 0; i < m; i++) {
      a[i] = matrix[i].clone();
    }
    double[][] v = new double[m][m];
    for (int i = 0; i < m; i++) {
      v[i][i] = 1;
    }
    double scale = 0;
    for (double[] row : a) {
      for (double x : row) {
        scale += x * x;
      }
    }
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
      double off = 0;
      for (int p = 0; p < m; p++) {
        for (int q = p + 1; q < m; q++) {
          off += a[p][q] * a[p][q];
        }
      }
      if (off <= 1e-30 * scale || off == 0) {
        break;
      }
      for (int p = 0; p < m; p++) {
        for (int q = p + 1; q < m; q++) {
          if (a[p][q] != 0) {
            rotate(a, v, p, q);
          }
        }
      }
    }
    return sorted(a, v);
  }

  /** Zeroes a[p][q] with the rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s): A ← JᵀAJ, V ← VJ. */
  private static void rotate(double[][] a, double[][] v, int p, int q) {
    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
    // The smaller root of t² + 2θt − 1 = 0 keeps the rotation angle below π/4, which is what
    // makes cyclic Jacobi converge.
    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
    if (theta == 0) {
      t = 1;
    }
    double c = 1 / Math.sqrt(t * t + 1);
    double s = t * c;
    int m = a.length;
    for (int k = 0; k < m; k++) {
      double akp = a[k][p];
      double akq = a[k][q];
      a[k][p] = c * akp - s * akq;
      a[k][q] = s * akp + c * akq;
    }
    for (int k = 0; k < m; k++) {
      double apk = a[p][k];
      double aqk = a[q][k];
      a[p][k] = c * apk - s * aqk;
      a[q][k] = s * apk + c * aqk;
    }
    for (int k = 0; k < m; k++) {
      double vkp = v[k][p];
      double vkq = v[k][q];
      v[k][p] = c * vkp - s * vkq;
      v[k][q] = s * vkp + c * vkq;
    }
  }

  private static SymmetricEigen sorted(double[][] a, double[][] v) {
    int m = a.length;
    Integer[] order = new Integer[m];
    for (int i = 0; i < m; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
    double[] values = new double[m];
    double[][] vectors = new double[m][m];
    for (int c = 0; c < m; c++) {
      values[c] = a[order[c]][order[c]];
      for (int i = 0; i < m; i++) {
        vectors[i][c] = v[i][order[c]];
      }
    }
    return new SymmetricEigen(values, vectors);
  }
}
