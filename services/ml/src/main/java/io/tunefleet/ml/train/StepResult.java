package io.tunefleet.ml.train;

/**
 * What one optimizer step did: the batch's mean loss, how many it got right, how long it took and,
 * on diagnostic steps, the gradient report (else null).
 */
public record StepResult(float loss, int correct, int samples, long nanos, GradientReport gradients) {
  public double accuracy() {
    return samples == 0 ? 0 : (double) correct / samples;
  }
}
