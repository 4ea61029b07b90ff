package io.tunefleet.training;

import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Progress;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Publishes a job's progress as a TRAINING / DISTILLING status: at most once a second, and at each epoch's end. */
final class ProgressReporter implements StepListener {
  private static final long EVERY_NANOS = 1_000_000_000L;

  private final ServiceContext ctx;
  private final PhaseRole role;
  private final Map<String, Long> lastStatus = new ConcurrentHashMap<>();

  ProgressReporter(ServiceContext ctx, PhaseRole role) {
    this.ctx = ctx;
    this.role = role;
  }

  @Override
  public void onStep(Step step) {
    JobRun run = step.run();
    long now = System.nanoTime();
    Long last = lastStatus.get(run.job);
    if (!step.endOfEpoch() && last != null && now - last <= EVERY_NANOS) {
      return;
    }
    lastStatus.put(run.job, now);
    BatchRef ref = step.ref();
    Progress p = Progress.newBuilder().setPhase(role.phase()).setEpoch(ref.getEpoch())
        .setEpochsPlanned(ref.getEpochsPlanned()).setStepInEpoch(run.next).setStepsInEpoch(ref.getStepsInEpoch())
        .setLoss(step.result().loss()).setImagesPerS(run.imagesPerSecond())
        .setUnfreezeStage(run.session.unfreezeStage()).build();
    ctx.status(run.job, role.activeState(), String.format(Locale.ROOT, "%s epoch %d/%d step %d/%d loss %.4f",
        role.verbing(), ref.getEpoch() + 1, ref.getEpochsPlanned(), run.next, ref.getStepsInEpoch(),
        step.result().loss()), p);
  }

  @Override
  public void onJobClosed(String job) {
    lastStatus.remove(job);
  }
}
