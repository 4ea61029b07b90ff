package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import java.nio.ByteBuffer;

/** Turns image batches into model inputs: NCHW float32, normalised as the model's manifest says. One place, used everywhere. */
public final class Tensors {
  private Tensors() {}

  /** {@code batch} as the network's input under {@code normalization}. */
  public static NDArray images(NDManager manager, ImageBatch batch, Normalization normalization) {
    NDArray raw = manager.create(ByteBuffer.wrap(batch.pixels()),
        new Shape(batch.size(), batch.height(), batch.width(), batch.channels()), DataType.UINT8);
    NDArray x = raw.toType(DataType.FLOAT32, false).transpose(0, 3, 1, 2);
    if (normalization == Normalization.HALF) {
      return x.div(127.5f).sub(1f); // the fleet's original arithmetic, so old models score bit for bit as before
    }
    // (x / 255 - mean) / std = x * (1 / (255 std)) - mean / std, per channel
    float[] mean = normalization.mean();
    float[] std = normalization.std();
    float[] scale = new float[3];
    float[] shift = new float[3];
    for (int c = 0; c < 3; c++) {
      scale[c] = 1f / (255f * std[c]);
      shift[c] = mean[c] / std[c];
    }
    Shape perChannel = new Shape(1, 3, 1, 1);
    return x.mul(manager.create(scale, perChannel)).sub(manager.create(shift, perChannel));
  }

  public static NDArray labels(NDManager manager, ImageBatch batch) {
    return manager.create(batch.labels());
  }
}
