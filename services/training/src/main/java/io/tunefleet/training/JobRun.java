package io.tunefleet.training;

import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.StepResult;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.GradientDiagnostics;
import io.tunefleet.proto.v1.TrainingRequest;

/** A job being trained on this replica: its network, its position in the batch stream and its epoch's tallies. */
final class JobRun implements AutoCloseable {
  final String job;
  final int partition;
  final TrainingRequest request;
  final TrainingSession session;
  /** DISTILL only: the teacher whose logits the student learns from. */
  final Classifier teacher;
  int epoch;
  /** The index in the epoch of the next batch to apply. */
  int next;
  long globalStep;
  double lossSum;
  long correct;
  long samples;
  long computeNanos;
  long lastStepEnd;
  /** The last gradient diagnostics of the epoch, carried by its checkpoint. */
  GradientDiagnostics diagnostics;

  JobRun(String job, int partition, TrainingRequest request, TrainingSession session, Classifier teacher) {
    this.job = job;
    this.partition = partition;
    this.request = request;
    this.session = session;
    this.teacher = teacher;
  }

  void beginEpoch() {
    lossSum = 0;
    correct = 0;
    samples = 0;
    computeNanos = 0;
  }

  void count(StepResult step) {
    next++;
    globalStep++;
    lossSum += step.loss();
    correct += step.correct();
    samples += step.samples();
    computeNanos += step.nanos();
  }

  /** Images per second of compute in the epoch so far. */
  double imagesPerSecond() {
    return computeNanos == 0 ? 0 : samples * 1e9 / computeNanos;
  }

  double meanLoss() {
    return lossSum / Math.max(1, next);
  }

  double accuracy() {
    return samples == 0 ? 0 : (double) correct / samples;
  }

  @Override
  public void close() {
    session.close();
    if (teacher != null) {
      teacher.close();
    }
  }
}
