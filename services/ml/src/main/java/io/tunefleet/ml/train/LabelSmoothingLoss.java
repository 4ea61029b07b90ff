package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;

/**
 * Cross-entropy against smoothed targets, as PyTorch's {@code CrossEntropyLoss(label_smoothing=ε)}:
 * the true class gets {@code 1 − ε + ε/K}, every other class {@code ε/K}; mean over the batch.
 * Labels are class indices (any numeric type); predictions are logits of shape (N, K).
 */
public final class LabelSmoothingLoss extends Loss {
  private final float smoothing;

  public LabelSmoothingLoss(float smoothing) {
    super("LabelSmoothingLoss");
    if (smoothing < 0 || smoothing >= 1) {
      throw new IllegalArgumentException("label smoothing must be in [0, 1), was " + smoothing);
    }
    this.smoothing = smoothing;
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray logits = predictions.singletonOrThrow();
    long k = logits.getShape().get(1);
    NDArray logp = logits.logSoftmax(1);
    NDArray target = labels.head().toType(ai.djl.ndarray.types.DataType.INT64, false).oneHot((int) k)
        .toType(logp.getDataType(), false)
        .mul(1 - smoothing).add(smoothing / k);
    return target.mul(logp).sum(new int[] {1}).neg().mean();
  }
}
