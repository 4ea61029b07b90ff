package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.tunefleet.ml.data.ImageBatch;
import java.nio.ByteBuffer;

/** Turns image batches into model inputs: NCHW float32, scaled to [-1, 1]. One place, used everywhere. */
public final class Tensors {
  private Tensors() {}

  public static NDArray images(NDManager manager, ImageBatch batch) {
    NDArray raw = manager.create(ByteBuffer.wrap(batch.pixels()),
        new Shape(batch.size(), batch.height(), batch.width(), batch.channels()), DataType.UINT8);
    return raw.toType(DataType.FLOAT32, false).transpose(0, 3, 1, 2).div(127.5f).sub(1f);
  }

  public static NDArray labels(NDManager manager, ImageBatch batch) {
    return manager.create(batch.labels());
  }
}
