package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class LossesTest {
  static NDManager manager;

  @BeforeAll
  static void engine() {
    System.setProperty("ai.djl.offline", "true");
    manager = NDManager.newBaseManager();
  }

  @AfterAll
  static void close() {
    manager.close();
  }

  private static double[] logSoftmax(double[] z) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v);
    }
    double sum = 0;
    for (double v : z) {
      sum += Math.exp(v - max);
    }
    double[] out = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      out[i] = z[i] - max - Math.log(sum);
    }
    return out;
  }

  @Test
  void labelSmoothingMatchesAHandComputedValue() {
    // logits [2, 1, 0], label 0, eps 0.1, K 3: targets [0.9333.., 0.0333.., 0.0333..]
    double[] lp = logSoftmax(new double[] {2, 1, 0});
    double eps = 0.1;
    double expected = -((1 - eps + eps / 3) * lp[0] + eps / 3 * lp[1] + eps / 3 * lp[2]);
    NDArray logits = manager.create(new float[] {2, 1, 0}, new ai.djl.ndarray.types.Shape(1, 3));
    NDArray labels = manager.create(new int[] {0});
    float loss = new LabelSmoothingLoss(0.1f).evaluate(new NDList(labels), new NDList(logits)).getFloat();
    assertEquals(expected, loss, 1e-5);
    assertEquals(0.5076, expected, 1e-4); // the value written out, so a change of formula shows
  }

  @Test
  void labelSmoothingOfZeroIsPlainCrossEntropyAveragedOverTheBatch() {
    double[] a = logSoftmax(new double[] {0, 3});
    double[] b = logSoftmax(new double[] {1, -1});
    double expected = -(a[1] + b[0]) / 2;
    NDArray logits = manager.create(new float[] {0, 3, 1, -1}, new ai.djl.ndarray.types.Shape(2, 2));
    NDArray labels = manager.create(new int[] {1, 0});
    assertEquals(expected, new LabelSmoothingLoss(0).evaluate(new NDList(labels), new NDList(logits)).getFloat(), 1e-5);
  }

  @Test
  void distillationLossIsAlphaT2KlPlusOneMinusAlphaCrossEntropy() {
    double t = 3;
    double alpha = 0.7;
    double[] s = {1.0, 0.5, -1.0};
    double[] te = {2.0, 0.0, -2.0};
    double[] lps = logSoftmax(new double[] {s[0] / t, s[1] / t, s[2] / t});
    double[] lpt = logSoftmax(new double[] {te[0] / t, te[1] / t, te[2] / t});
    double kl = 0;
    for (int i = 0; i < 3; i++) {
      kl += Math.exp(lpt[i]) * (lpt[i] - lps[i]);
    }
    double ce = -logSoftmax(s)[1];
    double expected = alpha * t * t * kl + (1 - alpha) * ce;
    NDArray student = manager.create(new float[] {1.0f, 0.5f, -1.0f}, new ai.djl.ndarray.types.Shape(1, 3));
    NDArray teacher = manager.create(new float[] {2.0f, 0.0f, -2.0f}, new ai.djl.ndarray.types.Shape(1, 3));
    NDArray labels = manager.create(new int[] {1});
    float loss = new DistillationLoss(3, 0.7f).evaluate(new NDList(labels, teacher), new NDList(student)).getFloat();
    assertEquals(expected, loss, 1e-5);
    // alpha 0 is plain cross-entropy; alpha 1 is the T²-scaled KL term alone
    assertEquals(ce, new DistillationLoss(3, 0).evaluate(new NDList(labels, teacher), new NDList(student)).getFloat(), 1e-5);
    assertEquals(t * t * kl, new DistillationLoss(3, 1).evaluate(new NDList(labels, teacher), new NDList(student)).getFloat(), 1e-5);
  }

  @Test
  void distillationLossIsZeroKlWhenStudentEqualsTeacher() {
    NDArray logits = manager.create(new float[] {0.3f, -0.2f}, new ai.djl.ndarray.types.Shape(1, 2));
    NDArray labels = manager.create(new int[] {0});
    assertEquals(0, new DistillationLoss(3, 1).evaluate(new NDList(labels, logits), new NDList(logits)).getFloat(), 1e-6);
  }
}
