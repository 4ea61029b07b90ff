package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.validation.InvalidSpecException;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TsneTest {
  private static final int PER_CLUSTER = 40;

  /** Three unit-variance Gaussian clusters whose centres are 10 apart along different axes. */
  private static double[][] clusters(int dims, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[][] x = new double[3 * PER_CLUSTER][dims];
    for (int i = 0; i < x.length; i++) {
      int c = i / PER_CLUSTER;
      for (int k = 0; k < dims; k++) {
        x[i][k] = rng.nextGaussian() + (k == c ? 10 : 0);
      }
    }
    return x;
  }

  private static int[] clusterLabels() {
    int[] labels = new int[3 * PER_CLUSTER];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i / PER_CLUSTER;
    }
    return labels;
  }

  /** Fraction of points whose nearest other point in the embedding has the same label. */
  private static double nearestNeighbourAgreement(double[][] y, int[] labels) {
    int agree = 0;
    for (int i = 0; i < y.length; i++) {
      int best = -1;
      double bestD = Double.POSITIVE_INFINITY;
      for (int j = 0; j < y.length; j++) {
        double d = Affinities.squaredDistance(y[i], y[j]);
        if (j != i && d < bestD) {
          bestD = d;
          best = j;
        }
      }
      agree += labels[best] == labels[i] ? 1 : 0;
    }
    return (double) agree / y.length;
  }

  /** Smallest between-cluster distance over largest within-cluster distance to the cluster mean. */
  private static double separation(double[][] y, int[] labels) {
    double[][] mean = new double[3][2];
    for (int i = 0; i < y.length; i++) {
      mean[labels[i]][0] += y[i][0] / PER_CLUSTER;
      mean[labels[i]][1] += y[i][1] / PER_CLUSTER;
    }
    double spread = 0;
    for (int i = 0; i < y.length; i++) {
      spread = Math.max(spread, Math.sqrt(Affinities.squaredDistance(y[i], mean[labels[i]])));
    }
    double gap = Double.POSITIVE_INFINITY;
    for (int a = 0; a < 3; a++) {
      for (int b = a + 1; b < 3; b++) {
        gap = Math.min(gap, Math.sqrt(Affinities.squaredDistance(mean[a], mean[b])));
      }
    }
    return gap / spread;
  }

  @Test
  void separatesWellSeparatedClusters() {
    double[][] y = Tsne.builder().optPerplexity(20).optIterations(500).optSeed(7).build().embed(clusters(10, 1));
    assertEquals(3 * PER_CLUSTER, y.length);
    assertEquals(2, y[0].length);
    assertTrue(nearestNeighbourAgreement(y, clusterLabels()) > 0.95);
    assertTrue(separation(y, clusterLabels()) > 1, "clusters overlap: " + separation(y, clusterLabels()));
  }

  @Test
  void separatesClustersThroughThePcaStepWhenInputIsWide() {
    double[][] y = Tsne.builder().optIterations(500).optPcaDimensions(20).build().embed(clusters(120, 2));
    assertTrue(nearestNeighbourAgreement(y, clusterLabels()) > 0.95);
    assertTrue(separation(y, clusterLabels()) > 1);
  }

  @Test
  void sameSeedGivesTheSameEmbeddingAndAnotherSeedDoesNot() {
    double[][] x = clusters(10, 3);
    double[][] a = Tsne.builder().optIterations(300).optSeed(11).build().embed(x);
    double[][] b = Tsne.builder().optIterations(300).optSeed(11).build().embed(x);
    double[][] c = Tsne.builder().optIterations(300).optSeed(12).build().embed(x);
    for (int i = 0; i < a.length; i++) {
      assertArrayEquals(a[i], b[i], 0.0);
    }
    assertFalse(Arrays.deepEquals(a, c));
  }

  @Test
  void calibratesEachRowToTheTargetPerplexity() {
    SplittableRandom rng = new SplittableRandom(5);
    int n = 25;
    double perplexity = 5;
    double[][] x = new double[n][4];
    for (double[] row : x) {
      for (int k = 0; k < row.length; k++) {
        row[k] = rng.nextGaussian() * 1000; // scale-free: the search must not underflow
      }
    }
    for (int i = 0; i < n; i++) {
      double[] sq = new double[n];
      for (int j = 0; j < n; j++) {
        sq[j] = Affinities.squaredDistance(x[i], x[j]);
      }
      double[] p = new double[n];
      Affinities.conditional(sq, i, perplexity, p);
      double entropy = 0;
      double sum = 0;
      for (double v : p) {
        sum += v;
        entropy -= v > 0 ? v * Math.log(v) : 0;
      }
      assertEquals(0, p[i]);
      assertEquals(1, sum, 1e-12);
      assertEquals(Math.log(perplexity), entropy, 1e-4, "row " + i);
    }
  }

  @Test
  void jointAffinitiesAreSymmetricAndSumToOne() {
    double[] p = Affinities.joint(clusters(10, 4), 10);
    int n = 3 * PER_CLUSTER;
    double sum = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        assertEquals(p[i * n + j], p[j * n + i], 1e-15);
        sum += p[i * n + j];
      }
    }
    assertEquals(1, sum, 1e-6);
  }

  @Test
  void gradientMatchesFiniteDifferencesOfTheKlDivergence() {
    int n = 12;
    double[] p = Affinities.joint(Arrays.copyOf(clusters(10, 6), n), 3);
    SplittableRandom rng = new SplittableRandom(9);
    double[] y = new double[2 * n];
    for (int i = 0; i < y.length; i++) {
      y[i] = rng.nextGaussian();
    }
    double[] grad = new double[2 * n];
    Tsne.gradient(p, y, n, 1, new double[n * n], grad);
    double h = 1e-6;
    for (int i = 0; i < y.length; i++) {
      double[] plus = y.clone();
      double[] minus = y.clone();
      plus[i] += h;
      minus[i] -= h;
      double numeric = (kl(p, plus, n) - kl(p, minus, n)) / (2 * h);
      assertEquals(numeric, grad[i], 1e-6, "coordinate " + i);
    }
  }

  private static double kl(double[] p, double[] y, int n) {
    double z = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i != j) {
          z += 1 / (1 + sq(y[2 * i] - y[2 * j]) + sq(y[2 * i + 1] - y[2 * j + 1]));
        }
      }
    }
    double kl = 0;
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < n; j++) {
        if (i != j) {
          double q = 1 / (1 + sq(y[2 * i] - y[2 * j]) + sq(y[2 * i + 1] - y[2 * j + 1])) / z;
          kl += p[i * n + j] * Math.log(p[i * n + j] / q);
        }
      }
    }
    return kl;
  }

  private static double sq(double v) {
    return v * v;
  }

  @Test
  void clipsPerplexityForSmallInputs() {
    Tsne tsne = Tsne.builder().optPerplexity(30).build();
    assertEquals(3, tsne.effectivePerplexity(10));
    assertEquals(30, tsne.effectivePerplexity(1000));
    double[][] y = tsne.embed(new double[][] {{0, 0}, {1, 0}, {0, 1}, {5, 5}});
    for (double[] row : y) {
      assertTrue(Double.isFinite(row[0]) && Double.isFinite(row[1]));
    }
  }

  @Test
  void reportsEveryBadSettingAtOnce() {
    InvalidSpecException e = assertThrows(InvalidSpecException.class,
        () -> Tsne.builder().optPerplexity(-1).optIterations(0).optLearningRate(0).optPcaDimensions(-2).build());
    assertEquals(4, e.problems().size(), e.getMessage());
  }
}
