package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SymmetricEigenTest {
  @Test
  void decomposesARandomSymmetricMatrixWithDescendingEigenvalues() {
    SplittableRandom rng = new SplittableRandom(1);
    int m = 30;
    double[][] a = new double[m][m];
    for (int i = 0; i < m; i++) {
      for (int j = i; j < m; j++) {
        a[i][j] = a[j][i] = rng.nextGaussian();
      }
    }
    SymmetricEigen eig = SymmetricEigen.of(a);
    for (int c = 0; c < m; c++) {
      if (c > 0) {
        assertTrue(eig.values()[c] <= eig.values()[c - 1]);
      }
      for (int i = 0; i < m; i++) {
        double av = 0;
        for (int k = 0; k < m; k++) {
          av += a[i][k] * eig.vectors()[k][c];
        }
        assertEquals(eig.values()[c] * eig.vectors()[i][c], av, 1e-9);
      }
      for (int d = 0; d < m; d++) {
        double dot = 0;
        for (int i = 0; i < m; i++) {
          dot += eig.vectors()[i][c] * eig.vectors()[i][d];
        }
        assertEquals(c == d ? 1 : 0, dot, 1e-9);
      }
    }
  }

  @Test
  void pcaKeepsTheDirectionsWithTheMostVariance() {
    SplittableRandom rng = new SplittableRandom(2);
    int n = 300;
    int d = 80;
    double[][] x = new double[n][d];
    for (double[] row : x) {
      for (int k = 0; k < d; k++) {
        // Variance falls off with the coordinate, so the top components are the first axes.
        row[k] = rng.nextGaussian() * (k < 3 ? 10 - k : 0.1) + 5;
      }
    }
    double[][] y = Pca.project(x, 3, 3);
    double kept = 0;
    double total = 0;
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < 3; c++) {
        kept += y[r][c] * y[r][c];
      }
    }
    double[] mean = new double[d];
    for (double[] row : x) {
      for (int k = 0; k < d; k++) {
        mean[k] += row[k] / n;
      }
    }
    double top3 = 0;
    for (double[] row : x) {
      for (int k = 0; k < d; k++) {
        double v = (row[k] - mean[k]) * (row[k] - mean[k]);
        total += v;
        top3 += k < 3 ? v : 0;
      }
    }
    assertTrue(kept >= top3 * 0.99, "kept " + kept + " of top-3 variance " + top3);
    assertTrue(kept <= total);
    // The first component carries more variance than the second.
    double v0 = 0;
    double v1 = 0;
    for (double[] row : y) {
      v0 += row[0] * row[0];
      v1 += row[1] * row[1];
    }
    assertTrue(v0 > v1);
  }
}
