package io.tunefleet.ml.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.loss.Loss;

/**
 * Hinton's knowledge-distillation loss: {@code α · T² · KL(p_teacher^T ‖ p_student^T) + (1 − α) · CE(student, y)}
 * where {@code p^T = softmax(logits / T)}. This is PyTorch's
 * {@code KLDivLoss(reduction="batchmean")(log_softmax(student/T), softmax(teacher/T)) · T² · α}, the
 * term often written KL(student/T ‖ teacher/T). The T² keeps the soft term's gradients on the scale of
 * the hard term's as T grows.
 *
 * <p>Labels: {@code NDList(classIndices, teacherLogits)}; predictions: the student's logits.
 */
public final class DistillationLoss extends Loss {
  private final float temperature;
  private final float alpha;

  public DistillationLoss(float temperature, float alpha) {
    super("DistillationLoss");
    if (temperature <= 0) {
      throw new IllegalArgumentException("temperature must be > 0, was " + temperature);
    }
    if (alpha < 0 || alpha > 1) {
      throw new IllegalArgumentException("alpha must be in [0, 1], was " + alpha);
    }
    this.temperature = temperature;
    this.alpha = alpha;
  }

  @Override
  public NDArray evaluate(NDList labels, NDList predictions) {
    NDArray student = predictions.singletonOrThrow();
    NDArray teacher = labels.get(1);
    NDArray logPs = student.div(temperature).logSoftmax(1);
    NDArray logPt = teacher.div(temperature).logSoftmax(1);
    NDArray kl = logPt.exp().mul(logPt.sub(logPs)).sum(new int[] {1}).mean();
    long k = student.getShape().get(1);
    NDArray ce = labels.get(0).toType(DataType.INT64, false).oneHot((int) k).toType(student.getDataType(), false)
        .mul(student.logSoftmax(1)).sum(new int[] {1}).neg().mean();
    return kl.mul(alpha * temperature * temperature).add(ce.mul(1 - alpha));
  }
}
