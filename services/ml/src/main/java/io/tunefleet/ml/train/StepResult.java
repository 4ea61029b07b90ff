package io.tunefleet.ml.train;

/** What one optimizer step did: the batch's mean loss, how many it got right, and how long it took. */
public record StepResult(float loss, int correct, int samples, long nanos) {
  public double accuracy() {
    return samples == 0 ? 0 : (double) correct / samples;
  }
}
