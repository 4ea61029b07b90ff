package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PcaTest {
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
    double[][] y = Pca.project(x, 3);
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

  @Test
  void dataOfLowerRankThanAskedGivesOnlyItsDirectionsAndKeepsDistances() {
    // three points span a plane: two directions carry them, and the projection is a rotation of the centred points
    double[][] x = {{1, 2, 3, 4}, {2, 4, 6, 8}, {0, 1, 0, 1}};
    double[][] y = Pca.project(x, 10);
    assertEquals(3, y[0].length, "at most min(n, d) directions");
    for (int a = 0; a < 3; a++) {
      for (int b = 0; b < 3; b++) {
        assertEquals(distance(x[a], x[b]), distance(y[a], y[b]), 1e-9);
      }
    }
  }

  private static double distance(double[] p, double[] q) {
    double s = 0;
    for (int i = 0; i < p.length; i++) {
      s += (p[i] - q[i]) * (p[i] - q[i]);
    }
    return Math.sqrt(s);
  }
}
