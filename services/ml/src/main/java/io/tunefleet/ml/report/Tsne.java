package io.tunefleet.ml.report;

import io.tunefleet.ml.validation.FieldProblem;
import io.tunefleet.ml.validation.InvalidSpecException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/** Exact t-SNE (van der Maaten &amp; Hinton, 2008) that embeds feature vectors in two dimensions. */
public final class Tsne {
  private static final double EXAGGERATION = 12;
  private static final int EXPLORATION_ITERATIONS = 250;
  private static final double EARLY_MOMENTUM = 0.5;
  private static final double LATE_MOMENTUM = 0.8;
  private static final double MIN_GAIN = 0.01;
  // Reference implementations start from N(0, (1e-4)²): tiny, so early exaggeration forms clusters
  // before any long-range structure is imposed by the initialisation.
  private static final double INITIAL_STD = 1e-4;

  private final double perplexity;
  private final int iterations;
  private final long seed;
  private final double learningRate;
  private final int pcaDimensions;

  private Tsne(Builder b) {
    this.perplexity = b.perplexity;
    this.iterations = b.iterations;
    this.seed = b.seed;
    this.learningRate = b.learningRate;
    this.pcaDimensions = b.pcaDimensions;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The n×2 embedding of the rows of {@code x} (all rows the same width). */
  public double[][] embed(double[][] x) {
    int n = x.length;
    if (n == 0) {
      return new double[0][2];
    }
    for (double[] row : x) {
      if (row.length != x[0].length) {
        throw new IllegalArgumentException("rows differ in width: " + row.length + " vs " + x[0].length);
      }
      for (double v : row) {
        if (!Double.isFinite(v)) {
          throw new IllegalArgumentException("input holds a non-finite value: " + v);
        }
      }
    }
    if (n == 1) {
      return new double[1][2];
    }
    double[][] input = pcaDimensions > 0 && x[0].length > pcaDimensions ? Pca.project(x, pcaDimensions) : x;
    double[] p = Affinities.joint(input, effectivePerplexity(n));
    return toRows(descend(p, n));
  }

  /** The perplexity actually used for {@code n} points: at most (n − 1)/3, and at least 1. */
  public double effectivePerplexity(int n) {
    return Math.max(1, Math.min(perplexity, (n - 1) / 3.0));
  }

  /** Gradient descent on KL(P‖Q) with momentum and per-coordinate gains (delta-bar-delta). */
  private double[] descend(double[] p, int n) {
    SplittableRandom rng = new SplittableRandom(seed);
    double[] y = new double[2 * n];
    for (int i = 0; i < y.length; i++) {
      y[i] = rng.nextGaussian() * INITIAL_STD;
    }
    double rate = Double.isNaN(learningRate) ? Math.max(n / EXAGGERATION / 4, 50) : learningRate;
    // Short runs keep at least half their iterations free of exaggeration so clusters can relax.
    int exploration = Math.min(EXPLORATION_ITERATIONS, iterations / 2);
    double[] update = new double[2 * n];
    double[] gains = new double[2 * n];
    Arrays.fill(gains, 1);
    double[] grad = new double[2 * n];
    double[] kernel = new double[n * n];
    for (int it = 0; it < iterations; it++) {
      boolean exploring = it < exploration;
      gradient(p, y, n, exploring ? EXAGGERATION : 1, kernel, grad);
      double momentum = exploring ? EARLY_MOMENTUM : LATE_MOMENTUM;
      for (int i = 0; i < y.length; i++) {
        boolean sameDirection = (grad[i] > 0) == (update[i] > 0);
        gains[i] = Math.max(MIN_GAIN, sameDirection ? gains[i] * 0.8 : gains[i] + 0.2);
        update[i] = momentum * update[i] - rate * gains[i] * grad[i];
        y[i] += update[i];
      }
      centre(y, n);
    }
    return y;
  }

  /**
   * dC/dy_i = 4 Σ_j (αP_ij − Q_ij)(1 + |y_i − y_j|²)⁻¹ (y_i − y_j), visiting each pair once; only the
   * upper triangle of {@code kernel} is used.
   */
  static void gradient(double[] p, double[] y, int n, double exaggeration, double[] kernel, double[] grad) {
    double z = 0;
    for (int i = 0; i < n; i++) {
      double xi = y[2 * i];
      double yi = y[2 * i + 1];
      int row = i * n;
      for (int j = i + 1; j < n; j++) {
        double dx = xi - y[2 * j];
        double dy = yi - y[2 * j + 1];
        double k = 1 / (1 + dx * dx + dy * dy);
        kernel[row + j] = k;
        z += k;
      }
    }
    double invZ = 1 / (2 * z);
    Arrays.fill(grad, 0);
    for (int i = 0; i < n; i++) {
      double xi = y[2 * i];
      double yi = y[2 * i + 1];
      double gx = 0;
      double gy = 0;
      int row = i * n;
      for (int j = i + 1; j < n; j++) {
        double k = kernel[row + j];
        double coeff = (exaggeration * p[row + j] - k * invZ) * k;
        double fx = coeff * (xi - y[2 * j]);
        double fy = coeff * (yi - y[2 * j + 1]);
        gx += fx;
        gy += fy;
        grad[2 * j] -= fx;
        grad[2 * j + 1] -= fy;
      }
      grad[2 * i] += gx;
      grad[2 * i + 1] += gy;
    }
    for (int i = 0; i < grad.length; i++) {
      grad[i] *= 4;
    }
  }

  private static void centre(double[] y, int n) {
    double mx = 0;
    double my = 0;
    for (int i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
      y[2 * i] -= mx;
      y[2 * i + 1] -= my;
    }
  }

  private static double[][] toRows(double[] y) {
    double[][] out = new double[y.length / 2][];
    for (int i = 0; i < out.length; i++) {
      out[i] = new double[] {y[2 * i], y[2 * i + 1]};
    }
    return out;
  }

  /** Settings for {@link Tsne}; every one has a default. */
  public static final class Builder {
    private double perplexity = 30;
    private int iterations = 1000;
    private long seed = 42;
    private double learningRate = Double.NaN;
    private int pcaDimensions = 50;

    private Builder() {}

    /** Effective number of neighbours; clipped to (n − 1)/3 for small inputs. */
    public Builder optPerplexity(double perplexity) {
      this.perplexity = perplexity;
      return this;
    }

    public Builder optIterations(int iterations) {
      this.iterations = iterations;
      return this;
    }

    public Builder optSeed(long seed) {
      this.seed = seed;
      return this;
    }

    /** A fixed step size (e.g. 200); by default max(n / 12 / 4, 50). */
    public Builder optLearningRate(double learningRate) {
      this.learningRate = learningRate;
      return this;
    }

    /** Reduce wider inputs to this many principal components first; 0 turns PCA off. */
    public Builder optPcaDimensions(int pcaDimensions) {
      this.pcaDimensions = pcaDimensions;
      return this;
    }

    public Tsne build() {
      List<FieldProblem> problems = new ArrayList<>();
      if (!(perplexity > 0) || Double.isInfinite(perplexity)) {
        problems.add(new FieldProblem("perplexity", "must be a positive number, was " + perplexity));
      }
      if (iterations < 1) {
        problems.add(new FieldProblem("iterations", "must be at least 1, was " + iterations));
      }
      if (!Double.isNaN(learningRate) && !(learningRate > 0 && Double.isFinite(learningRate))) {
        problems.add(new FieldProblem("learningRate", "must be a positive number, was " + learningRate));
      }
      if (pcaDimensions < 0) {
        problems.add(new FieldProblem("pcaDimensions", "must be 0 (off) or positive, was " + pcaDimensions));
      }
      if (!problems.isEmpty()) {
        throw new InvalidSpecException(problems);
      }
      return new Tsne(this);
    }
  }
}
