package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LayerwiseSgdTest {
  private static final LayerwiseSgd.Group DECAYED = new LayerwiseSgd.Group("layer1", 0.1f, 0.01f);
  private static final LayerwiseSgd.Group PLAIN = new LayerwiseSgd.Group("head", 0.5f, 0f);

  /**
   * PyTorch's torch.optim.SGD(momentum=0.9, weight_decay=λ), by hand, for w = [1, -2] with gradients
   * g1 = [0.5, 0.25] then g2 = [-1, 2], the learning rate halved between the steps (a schedule factor):
   * v1 = g1 + λ·w0, w1 = w0 − lr·v1; v2 = 0.9·v1 + g2 + λ·w1, w2 = w1 − (lr/2)·v2.
   */
  @Test
  void matchesPyTorchSgdWithMomentumWeightDecayAndAChangingLearningRate() {
    try (NDManager m = NDManager.newBaseManager();
        LayerwiseSgd sgd = LayerwiseSgd.builder().optMomentum(0.9f).setGroup("w", DECAYED).setGroup("b", PLAIN).build()) {
      NDArray w = m.create(new float[] {1f, -2f});
      NDArray b = m.create(new float[] {3f});
      sgd.update("w", w, m.create(new float[] {0.5f, 0.25f}));
      sgd.update("b", b, m.create(new float[] {1f}));
      // v1 = [0.5 + 0.01, 0.25 − 0.02] = [0.51, 0.23]; w1 = [1 − 0.051, −2 − 0.023]
      assertArrayEquals(new float[] {0.949f, -2.023f}, w.toFloatArray(), 1e-6f);
      assertArrayEquals(new float[] {2.5f}, b.toFloatArray(), 1e-6f);
      sgd.setScale(0.5f);
      sgd.update("w", w, m.create(new float[] {-1f, 2f}));
      sgd.update("b", b, m.create(new float[] {1f}));
      // v2 = [0.9·0.51 − 1 + 0.00949, 0.9·0.23 + 2 − 0.02023] = [−0.53151, 2.18677]; w2 = w1 − 0.05·v2
      assertArrayEquals(new float[] {0.949f + 0.05f * 0.53151f, -2.023f - 0.05f * 2.18677f}, w.toFloatArray(), 1e-6f);
      // v2 = 0.9 + 1 = 1.9; b2 = 2.5 − 0.25·1.9
      assertArrayEquals(new float[] {2.5f - 0.25f * 1.9f}, b.toFloatArray(), 1e-6f);
      // the buffers it checkpoints are lr·v at the factor in force
      assertArrayEquals(new float[] {0.05f * -0.53151f, 0.05f * 2.18677f}, sgd.scaledVelocity().get("w").toFloatArray(), 1e-6f);
    }
  }

  @Test
  void restoresPlainPyTorchBuffersAndRefusesAZeroLearningRate() {
    try (NDManager m = NDManager.newBaseManager();
        LayerwiseSgd sgd = LayerwiseSgd.builder().optMomentum(0.9f).setGroup("b", PLAIN).build()) {
      sgd.setScale(0.5f);
      // a plain buffer v = 2 (factor 0 = PyTorch's convention) continues as PyTorch would: v = 0.9·2 + 1, b −= 0.25·v
      NDArray v = m.create(new float[] {2f});
      sgd.restore(Map.of("b", v), 0f);
      NDArray b = m.create(new float[] {3f});
      sgd.update("b", b, m.create(new float[] {1f}));
      assertArrayEquals(new float[] {3f - 0.25f * 2.8f}, b.toFloatArray(), 1e-6f);
      assertThrows(IllegalArgumentException.class, () -> sgd.setScale(0f));
      assertThrows(IllegalStateException.class, () -> sgd.update("unknown", b, m.create(new float[] {1f})));
    }
  }
}
