package io.tunefleet.training;

import java.util.Locale;
import java.util.stream.Collectors;

/** Fails a job whose loss is no longer finite: nothing after that step can recover, and a checkpoint would spread it. */
final class DivergenceCheck implements StepListener {
  @Override
  public void beforeCount(Step step) throws StepRejected {
    float loss = step.result().loss();
    if (Float.isFinite(loss)) {
      return;
    }
    JobRun run = step.run();
    String rates = run.session.learningRates().entrySet().stream()
        .map(e -> String.format(Locale.ROOT, "%s %.3g", e.getKey(), e.getValue()))
        .collect(Collectors.joining(", "));
    throw new StepRejected(String.format(Locale.ROOT, "training diverged: the loss is %s at step %d of epoch %d "
        + "(learning rates %s); lower the learning rate or check the data", loss, run.next, run.epoch, rates));
  }
}
