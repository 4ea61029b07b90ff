package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDManager;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import org.junit.jupiter.api.Test;

class TensorsTest {
  @Test
  void pixelsAreNormalisedAsTheModelRecords() {
    // one 1x2 image: pixel (0, 128, 255) then (255, 0, 64)
    ImageBatch batch = new ImageBatch(1, 1, 2, 3, new int[] {0}, new int[] {0},
        new byte[] {0, (byte) 128, (byte) 255, (byte) 255, 0, 64});
    try (NDManager m = NDManager.newBaseManager()) {
      float[] half = Tensors.images(m, batch, Normalization.HALF).toFloatArray();
      // NCHW: R of both pixels, then G, then B
      assertArrayEquals(new float[] {-1f, 1f, 128 / 127.5f - 1, -1f, 1f, 64 / 127.5f - 1}, half, 1e-6f);
      float[] imagenet = Tensors.images(m, batch, Normalization.IMAGENET).toFloatArray();
      float[] expected = {
          (0 / 255f - 0.485f) / 0.229f, (255 / 255f - 0.485f) / 0.229f,
          (128 / 255f - 0.456f) / 0.224f, (0 / 255f - 0.456f) / 0.224f,
          (255 / 255f - 0.406f) / 0.225f, (64 / 255f - 0.406f) / 0.225f};
      assertArrayEquals(expected, imagenet, 1e-5f);
    }
  }
}
