package io.tunefleet.training;

import io.tunefleet.ml.train.StepResult;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Checkpoint;

/**
 * What happens around a training step, in the spirit of DJL's {@code TrainingListener}: metrics, the divergence
 * check, gradient diagnostics and progress are listeners of the {@link PhaseTrainer}, not inline code.
 */
interface StepListener {

  /** One applied step; {@code dataWaitNanos} is how long the step waited for its batch (0 for a job's first). */
  record Step(JobRun run, BatchRef ref, StepResult result, long dataWaitNanos) {
    boolean endOfEpoch() {
      return run.next == ref.getStepsInEpoch();
    }
  }

  /**
   * Called after the step ran and before it is counted. Throwing {@link StepRejected} fails the job with its message
   * and keeps the step out of every checkpoint.
   */
  default void beforeCount(Step step) throws StepRejected {}

  /** Called after the step is counted in the job's position. */
  default void onStep(Step step) {}

  /** Called once the epoch's checkpoint is durable and announced. */
  default void onCheckpoint(JobRun run, Checkpoint event) {}

  /** Called when the job leaves this replica (finished, failed or handed over). */
  default void onJobClosed(String job) {}

  /** A step whose result must not be kept: the job fails with this message. */
  final class StepRejected extends Exception {
    StepRejected(String message) {
      super(message);
    }
  }
}
