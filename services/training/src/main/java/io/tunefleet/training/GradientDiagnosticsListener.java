package io.tunefleet.training;

import io.micrometer.core.instrument.Tags;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.train.GradientReport;
import io.tunefleet.proto.v1.GradientDiagnostics;
import io.tunefleet.proto.v1.JobStatus;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Turns a diagnostic step's gradient report into the checkpoint's {@link GradientDiagnostics}, gauges, and a WARNING
 * status (at most one per job and epoch) when a ratio leaves its healthy range.
 */
final class GradientDiagnosticsListener implements StepListener {
  private final ServiceContext ctx;
  private final TrainingMeters meters;
  private final Map<String, Integer> warnedEpoch = new ConcurrentHashMap<>();

  GradientDiagnosticsListener(ServiceContext ctx, TrainingMeters meters) {
    this.ctx = ctx;
    this.meters = meters;
  }

  @Override
  public void onStep(Step step) {
    GradientReport report = step.result().gradients();
    if (report == null) {
      return;
    }
    JobRun run = step.run();
    run.diagnostics = GradientDiagnostics.newBuilder().setStep(run.globalStep)
        .putAllMeanAbsGrad(report.meanAbsByStage()).setHeadBackboneRatio(report.headBackboneRatio())
        .putAllResidualRatio(report.residualRatio()).addAllWarnings(report.warnings()).build();
    JobMeters m = meters.of(run.job);
    report.meanAbsByStage().forEach((stage, v) -> m.gauge("gradient.mean.abs", Tags.of("stage", stage), v,
        "Mean |gradient| of a stage's trainable parameters"));
    m.gauge("gradient.head.backbone.ratio", Tags.empty(), report.headBackboneRatio(),
        "Mean |gradient| of the head / of the trainable backbone (0: backbone frozen)");
    report.residualRatio().forEach((block, v) -> m.gauge("gradient.residual.ratio", Tags.of("block", block), v,
        "|dL/d input| / |dL/d output| of a residual block"));
    if (!report.warnings().isEmpty() && !Integer.valueOf(run.epoch).equals(warnedEpoch.put(run.job, run.epoch))) {
      ctx.status(run.job, JobStatus.State.WARNING, "gradient diagnostics at step " + run.globalStep + ": "
          + String.join("; ", report.warnings()));
    }
  }

  @Override
  public void onJobClosed(String job) {
    warnedEpoch.remove(job);
  }
}
