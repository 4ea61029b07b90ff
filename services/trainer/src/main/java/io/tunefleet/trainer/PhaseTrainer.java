package io.tunefleet.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.CorruptBlobException;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.TorchScriptImport;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.Devices;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.GradientReport;
import io.tunefleet.ml.train.StepResult;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.GradientDiagnostics;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Progress;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one phase of jobs — the teacher (TRAIN) or the student (DISTILL) — from a stream of
 * {@link BatchRef}s. Steps are applied exactly once: a batch at or before the job's position is
 * skipped, the committed offset is held back until the epoch's checkpoint (weights, momentum, recipe
 * stage, position) is durable and announced, and a replica that takes over a job resumes from that
 * checkpoint. Used by the trainer and, with the distillation loss, by the distiller.
 */
public final class PhaseTrainer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PhaseTrainer.class);
  private static final long STATUS_EVERY_NANOS = 1_000_000_000L;
  private static final java.time.Duration METER_RETENTION = java.time.Duration.ofMinutes(10);
  private static final java.util.concurrent.ScheduledExecutorService CLEANUP =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fleet-meter-cleanup");
        t.setDaemon(true);
        return t;
      });

  private final ServiceContext ctx;
  private final Phase phase;
  private final BlobStore blobs;
  private final Device device;
  private final PathPolicy paths;
  private final Map<String, Run> runs = new HashMap<>();
  private final Set<String> finished = new HashSet<>();
  private final MeterRegistry registry;
  private final Map<String, JobGauges> gauges = new java.util.concurrent.ConcurrentHashMap<>();
  private final String metricPrefix;

  /** A job being trained on this replica. */
  private static final class Run {
    final String job;
    final int partition;
    final TrainingRequest request;
    final TrainingSession session;
    final Classifier teacher;
    int epoch;
    int next;
    long globalStep;
    double lossSum;
    long correct;
    long samples;
    long computeNanos;
    long lastStepEnd;
    long lastStatus;
    int warnedEpoch = -1;
    GradientDiagnostics diagnostics;

    Run(String job, int partition, TrainingRequest request, TrainingSession session, Classifier teacher) {
      this.job = job;
      this.partition = partition;
      this.request = request;
      this.session = session;
      this.teacher = teacher;
    }

    void resetEpochStats() {
      lossSum = 0;
      correct = 0;
      samples = 0;
      computeNanos = 0;
    }
  }

  /** A job's meters: per-step timers and counters, and the values exported as gauges. */
  private static final class JobGauges {
    Timer step;
    Timer dataWait;
    Counter steps;
    Counter images;
    final AtomicReference<Double> loss = new AtomicReference<>(0.0);
    final AtomicReference<Double> accuracy = new AtomicReference<>(0.0);
    final AtomicReference<Double> epoch = new AtomicReference<>(0.0);
    final AtomicReference<Double> stage = new AtomicReference<>(0.0);
    final AtomicReference<Double> lrHead = new AtomicReference<>(0.0);
    final AtomicReference<Double> lrBackbone = new AtomicReference<>(0.0);
    final AtomicReference<Double> imagesPerSecond = new AtomicReference<>(0.0);
    /**
     * The gradient-diagnostics gauges by name and tags. Kept with the job's other meters, not with its run: a
     * job handed back to this replica gets a new run, and registering the same gauge again would leave
     * Micrometer reading the old run's values.
     */
    final Map<String, AtomicReference<Double>> diagnostics = new java.util.concurrent.ConcurrentHashMap<>();
  }

  public PhaseTrainer(ServiceContext ctx, Phase phase) {
    this.ctx = ctx;
    this.phase = phase;
    this.blobs = ctx.blobs();
    this.registry = ctx.registry();
    this.paths = new PathPolicy(ctx.config().dataRoots());
    this.metricPrefix = phase == Phase.TRAIN ? "fleet.trainer" : "fleet.distiller";
    this.device = Devices.choose(ctx.config().get(FleetConfig.DEVICE));
    LOG.info("{} trains on {}", phase, device);
  }

  public Phase phase() {
    return phase;
  }

  public void onEvaluation(Evaluation ev) {
    if (ev.getPhase() == phase && ev.getVerdict() != Evaluation.Verdict.CONTINUE) {
      // the phase is over: drop the job and skip any batches produced ahead of the verdict
      finished.add(ev.getJobId());
      Run run = runs.remove(ev.getJobId());
      if (run != null) {
        close(run);
        ctx.jobStates().forget(run.job);
        removeMetersLater(run.job);
      }
    }
  }

  /** A finished job's series stay for a while (dashboards, last scrapes), then go: tags must not pile up. */
  private void removeMetersLater(String job) {
    CLEANUP.schedule(() -> {
      gauges.remove(job);
      registry.getMeters().stream().filter(m -> job.equals(m.getId().getTag("job_id"))).forEach(registry::remove);
    }, METER_RETENTION.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  public void onBatch(ConsumerRecord<String, byte[]> record, BatchRef ref, RecordContext context) throws IOException {
    if (ref.getPhase() != phase || finished.contains(ref.getJobId())) {
      return;
    }
    String job = ref.getJobId();
    Run run = runs.get(job);
    if (run == null) {
      Checkpoint last = lastCheckpoint(job);
      if (last != null && ref.getEpoch() <= last.getEpoch()) {
        // a replay of an epoch already in a checkpoint: its batch files are gone, and nothing is to be done
        return;
      }
      try {
        run = open(ref, record.partition(), last);
      } catch (CorruptBlobException e) {
        failJob(job, "refusing to train on a corrupt batch: " + e.getMessage());
        return;
      }
      if (run == null) {
        return;
      }
      runs.put(job, run);
    }
    if (ref.getEpoch() < run.epoch || (ref.getEpoch() == run.epoch && ref.getIndexInEpoch() < run.next)) {
      LOG.debug("{}: {} e{} s{} already applied, skipped", job, phase, ref.getEpoch(), ref.getIndexInEpoch());
      return;
    }
    if (ref.getEpoch() != run.epoch || ref.getIndexInEpoch() != run.next) {
      failJob(run, String.format("batch stream has a gap: expected epoch %d step %d, got epoch %d step %d",
          run.epoch, run.next, ref.getEpoch(), ref.getIndexInEpoch()));
      return;
    }
    ImageBatch batch;
    try {
      batch = BatchCodec.decode(blobs.get(ref.getBatch()));
    } catch (CorruptBlobException e) {
      failJob(run, "refusing to train on a corrupt batch: " + e.getMessage());
      return;
    }
    long batchReady = System.nanoTime();
    if (run.next == 0) {
      if (ref.hasUnfreezeStage()) {
        run.session.beginEpoch(run.epoch, ref.getUnfreezeStage());
      } else {
        run.session.beginEpoch(run.epoch);
      }
      run.resetEpochStats();
    }
    JobGauges meters = gauges.computeIfAbsent(job, this::registerGauges);
    if (run.lastStepEnd > 0) {
      // from the end of the previous step until this batch is read, verified and decoded
      meters.dataWait.record(batchReady - run.lastStepEnd, java.util.concurrent.TimeUnit.NANOSECONDS);
    }
    Run current = run;
    StepResult step;
    int every = run.request.getRecipe().getDiagnosticsEvery();
    boolean diagnose = every > 0 && (run.globalStep % every == 0 || ref.getIndexInEpoch() == ref.getStepsInEpoch() - 1);
    try {
      step = run.session.step(batch, run.teacher == null ? null : scope -> current.teacher.logits(scope, batch), diagnose);
    } catch (RuntimeException e) {
      failJob(run, String.format("training step %d of epoch %d failed: %s", run.next, run.epoch, e.getMessage()));
      return;
    }
    run.lastStepEnd = System.nanoTime();
    if (!Float.isFinite(step.loss())) {
      // nothing after this step can recover, and a checkpoint of these weights would only spread the NaN
      String rates = run.session.learningRates().entrySet().stream()
          .map(e -> String.format(java.util.Locale.ROOT, "%s %.3g", e.getKey(), e.getValue()))
          .collect(java.util.stream.Collectors.joining(", "));
      failJob(run, String.format("training diverged: the loss is %s at step %d of epoch %d (learning rates %s); "
          + "lower the learning rate or check the data", step.loss(), run.next, run.epoch, rates));
      return;
    }
    context.defer(job);
    run.next++;
    run.globalStep++;
    run.lossSum += step.loss();
    run.correct += step.correct();
    run.samples += step.samples();
    run.computeNanos += step.nanos();
    meters.step.record(step.nanos(), java.util.concurrent.TimeUnit.NANOSECONDS);
    meters.steps.increment();
    meters.images.increment(step.samples());
    updateGauges(meters, run, step, ref);
    if (step.gradients() != null) {
      recordDiagnostics(run, step.gradients());
    }
    boolean endOfEpoch = run.next == ref.getStepsInEpoch();
    if (endOfEpoch || System.nanoTime() - run.lastStatus > STATUS_EVERY_NANOS) {
      publishProgress(run, ref, step);
    }
    if (endOfEpoch) {
      checkpoint(run, ref);
      context.release(job);
      run.epoch++;
      run.next = 0;
    }
  }

  private void updateGauges(JobGauges g, Run run, StepResult step, BatchRef ref) {
    g.loss.set((double) step.loss());
    g.accuracy.set(step.accuracy());
    g.epoch.set((double) ref.getEpoch() + (double) run.next / ref.getStepsInEpoch());
    g.stage.set((double) run.session.unfreezeStage());
    Map<String, Double> lrs = run.session.learningRates();
    g.lrHead.set(lrs.get("head"));
    g.lrBackbone.set(lrs.get("layer4"));
    g.imagesPerSecond.set(run.computeNanos == 0 ? 0 : run.samples * 1e9 / run.computeNanos);
  }

  private void recordDiagnostics(Run run, GradientReport report) {
    GradientDiagnostics.Builder d = GradientDiagnostics.newBuilder().setStep(run.globalStep)
        .putAllMeanAbsGrad(report.meanAbsByStage()).setHeadBackboneRatio(report.headBackboneRatio())
        .putAllResidualRatio(report.residualRatio()).addAllWarnings(report.warnings());
    run.diagnostics = d.build();
    Tags tags = Tags.of("job_id", run.job);
    report.meanAbsByStage().forEach((stage, v) -> gauge(run, "gradient.mean.abs", tags.and("stage", stage), v,
        "Mean |gradient| of a stage's trainable parameters"));
    gauge(run, "gradient.head.backbone.ratio", tags, report.headBackboneRatio(),
        "Mean |gradient| of the head / of the trainable backbone (0: backbone frozen)");
    report.residualRatio().forEach((block, v) -> gauge(run, "gradient.residual.ratio", tags.and("block", block), v,
        "|dL/d input| / |dL/d output| of a residual block"));
    if (!report.warnings().isEmpty() && run.warnedEpoch != run.epoch) {
      run.warnedEpoch = run.epoch;
      ctx.status(run.job, JobStatus.State.WARNING, "gradient diagnostics at step " + run.globalStep + ": "
          + String.join("; ", report.warnings()));
    }
  }

  private void gauge(Run run, String name, Tags tags, double value, String description) {
    String key = name + tags;
    AtomicReference<Double> ref = gauges.computeIfAbsent(run.job, this::registerGauges).diagnostics.computeIfAbsent(key, k -> {
      AtomicReference<Double> r = new AtomicReference<>(value);
      Gauge.builder(metricPrefix + "." + name, r, AtomicReference::get).description(description).tags(tags).register(registry);
      return r;
    });
    ref.set(value);
  }

  private JobGauges registerGauges(String job) {
    JobGauges g = new JobGauges();
    Tags tags = Tags.of("job_id", job);
    g.step = Timer.builder(metricPrefix + ".step").description("Compute time of one optimizer step").tags(tags)
        .register(registry);
    g.dataWait = Timer.builder(metricPrefix + ".data.wait").description("Time a step waited for its batch").tags(tags)
        .register(registry);
    g.steps = Counter.builder(metricPrefix + ".steps").description("Optimizer steps applied").tags(tags).register(registry);
    g.images = Counter.builder(metricPrefix + ".images").description("Images trained on").tags(tags).register(registry);
    Gauge.builder(metricPrefix + ".loss", g.loss, AtomicReference::get).description("Training loss of the last step").tags(tags).register(registry);
    Gauge.builder(metricPrefix + ".accuracy", g.accuracy, AtomicReference::get).description("Training accuracy of the last batch").tags(tags).register(registry);
    Gauge.builder(metricPrefix + ".epoch", g.epoch, AtomicReference::get).description("Epoch progress (fractional)").tags(tags).register(registry);
    Gauge.builder(metricPrefix + ".unfreeze.stage", g.stage, AtomicReference::get).description("Backbone stages unfrozen").tags(tags).register(registry);
    Gauge.builder(metricPrefix + ".learning.rate", g.lrHead, AtomicReference::get).description("Learning rate per parameter group")
        .tags(tags.and("group", "head")).register(registry);
    Gauge.builder(metricPrefix + ".learning.rate", g.lrBackbone, AtomicReference::get).description("Learning rate per parameter group")
        .tags(tags.and("group", "backbone")).register(registry);
    Gauge.builder(metricPrefix + ".images.per.second", g.imagesPerSecond, AtomicReference::get)
        .description("Training throughput of the current epoch (compute only)").tags(tags).register(registry);
    return g;
  }

  private void publishProgress(Run run, BatchRef ref, StepResult step) {
    run.lastStatus = System.nanoTime();
    Progress p = Progress.newBuilder().setPhase(phase).setEpoch(ref.getEpoch()).setEpochsPlanned(ref.getEpochsPlanned())
        .setStepInEpoch(run.next).setStepsInEpoch(ref.getStepsInEpoch()).setLoss(step.loss())
        .setImagesPerS(run.computeNanos == 0 ? 0 : run.samples * 1e9 / run.computeNanos)
        .setUnfreezeStage(run.session.unfreezeStage()).build();
    ctx.status(run.job, phase == Phase.TRAIN ? JobStatus.State.TRAINING : JobStatus.State.DISTILLING,
        String.format("%s epoch %d/%d step %d/%d loss %.4f", phase == Phase.TRAIN ? "training" : "distilling",
            ref.getEpoch() + 1, ref.getEpochsPlanned(), run.next, ref.getStepsInEpoch(), step.loss()), p);
  }

  /** Writes the epoch's checkpoint, announces it, moves the resume point, then frees the consumed batches. */
  private void checkpoint(Run run, BatchRef ref) throws IOException {
    ModelManifest manifest = ModelManifest.newBuilder().setJobId(run.job).setPhase(phase).setEpoch(run.epoch)
        .setGlobalStep(run.globalStep).setUnfreezeStage(run.session.unfreezeStage())
        .setRngSeed(run.request.getRecipe().getSeed()).setNote("fleet " + phase + " checkpoint").build();
    var blob = blobs.put(JobPaths.checkpoint(run.job, phase, run.epoch), run.session.save(manifest, true));
    Checkpoint.Builder c = Checkpoint.newBuilder().setJobId(run.job).setPhase(phase).setEpoch(run.epoch)
        .setGlobalStep(run.globalStep).setCheckpoint(blob).setRequest(ref.getRequest()).setValidation(ref.getValidation())
        .setEpochsPlanned(ref.getEpochsPlanned()).setArchitecture(run.session.net().architecture())
        .setParameterCount(run.session.parameterCount()).setTrainLoss(run.lossSum / Math.max(1, run.next))
        .setTrainAccuracy(run.samples == 0 ? 0 : (double) run.correct / run.samples)
        .setImagesPerS(run.computeNanos == 0 ? 0 : run.samples * 1e9 / run.computeNanos)
        .setUnfreezeStage(run.session.unfreezeStage());
    if (ref.hasTeacher()) {
      c.setTeacher(ref.getTeacher());
    }
    if (ref.hasTrainSplit()) {
      c.setTrainSplit(ref.getTrainSplit());
    }
    if (run.diagnostics != null) {
      c.setDiagnostics(run.diagnostics);
    }
    c.putAllLearningRates(run.session.learningRates());
    Checkpoint event = c.build();
    // kept beside the weights: the job report reads the epoch history from here
    blobs.put(JobPaths.checkpointEvent(run.job, phase, run.epoch), event.toByteArray());
    ctx.producer().sendAndWait(ctx.topics().checkpoints, run.job, event);
    blobs.put(JobPaths.latestCheckpoint(run.job, phase), event.toByteArray());
    Counter.builder(metricPrefix + ".checkpoints").description("Epoch checkpoints written and announced")
        .tags("job_id", run.job).register(registry).increment();
    gauge(run, "last.checkpoint.timestamp.seconds", Tags.of("job_id", run.job), System.currentTimeMillis() / 1e3,
        "When the job's last checkpoint was announced (Unix seconds)");
    blobs.deleteTree(JobPaths.epochDir(run.job, phase, run.epoch));
    LOG.info("{}: {} epoch {} checkpointed (loss {}, train acc {}, {} img/s)", run.job, phase, run.epoch,
        String.format("%.4f", event.getTrainLoss()), String.format("%.3f", event.getTrainAccuracy()),
        String.format("%.0f", event.getImagesPerS()));
  }

  /** Builds the job's network: from its last checkpoint if one exists, else fresh (from the base model). */
  private Checkpoint lastCheckpoint(String job) throws IOException {
    String path = JobPaths.latestCheckpoint(job, phase);
    return blobs.exists(path) ? Checkpoint.parseFrom(blobs.read(path)) : null;
  }

  private Run open(BatchRef ref, int partition, Checkpoint last) throws IOException {
    String job = ref.getJobId();
    TrainingRequest request = TrainingRequest.parseFrom(blobs.get(ref.getRequest()));
    ImageBatch first = BatchCodec.decode(blobs.get(ref.getBatch()));
    int imageSize = first.height();
    TrainingSession session;
    Classifier teacher = null;
    // the teacher and the student see the same batches, so both take the request's normalisation
    io.tunefleet.ml.data.Normalization normalization = io.tunefleet.ml.data.Normalization.fromId(request.getRecipe().getNormalization());
    if (phase == Phase.TRAIN) {
      session = TrainingSession.create(request.getBaseModel().getArchitecture(), imageSize, normalization,
          SessionConfigs.teacher(request), device, request.getRecipe().getSeed());
    } else {
      session = TrainingSession.create(request.getDistillation().getStudent(), imageSize, normalization,
          SessionConfigs.student(request), device, request.getRecipe().getSeed() + 1);
      teacher = Classifier.load(blobs.get(ref.getTeacher()), imageSize, device);
    }
    Run run = new Run(job, partition, request, session, teacher);
    try {
      if (last != null) {
        try (NDManager tmp = NDManager.newBaseManager(device)) {
          session.restore(ModelFile.decode(blobs.get(last.getCheckpoint()), tmp));
        }
        run.epoch = last.getEpoch() + 1;
        run.globalStep = last.getGlobalStep();
        LOG.info("{}: {} resumed from the checkpoint of epoch {} (step {})", job, phase, last.getEpoch(), last.getGlobalStep());
      } else if (phase == Phase.TRAIN && !request.getBaseModel().getTorchscript().isEmpty()) {
        List<io.tunefleet.ml.validation.FieldProblem> problems = new ArrayList<>();
        Path base = paths.resolve("base_model.torchscript", request.getBaseModel().getTorchscript(), true, problems);
        if (base == null) {
          throw new IOException(problems.toString());
        }
        try (NDManager tmp = NDManager.newBaseManager(device)) {
          int n = session.initBackboneFrom(TorchScriptImport.weights(base, tmp), true);
          LOG.info("{}: backbone initialised from TorchScript {} ({} tensors; BatchNorm statistics re-estimated in training)",
              job, base, n);
        }
      } else if (phase == Phase.TRAIN && !request.getBaseModel().getCheckpoint().isEmpty()) {
        List<io.tunefleet.ml.validation.FieldProblem> problems = new ArrayList<>();
        Path base = paths.resolve("base_model.checkpoint", request.getBaseModel().getCheckpoint(), true, problems);
        if (base == null) {
          throw new IOException(problems.toString());
        }
        try (NDManager tmp = NDManager.newBaseManager(device)) {
          int n = session.initBackboneFrom(ModelFile.decode(Files.readAllBytes(base), tmp).weights());
          LOG.info("{}: backbone initialised from {} ({} tensors)", job, base, n);
        }
      }
    } catch (IOException | RuntimeException e) {
      close(run);
      failJob(job, "cannot prepare the " + phase + " network: " + e.getMessage());
      return null;
    }
    announceTakeUp(run, ref, last);
    return run;
  }

  /**
   * Says that this replica took the job up: at its start, or from its last checkpoint after a handover (the
   * epoch in progress is trained again from its first step). Its progress is step 0 of the epoch it begins.
   */
  private void announceTakeUp(Run run, BatchRef ref, Checkpoint last) {
    String what = phase == Phase.TRAIN ? "training" : "distillation";
    String message = last == null ? what + " started on this replica"
        : String.format(java.util.Locale.ROOT, "%s resumed on this replica from the checkpoint of epoch %d (step %d): "
            + "epoch %d restarts from its first step", what, last.getEpoch() + 1, last.getGlobalStep(), run.epoch + 1);
    Progress at = Progress.newBuilder().setPhase(phase).setEpoch(run.epoch).setEpochsPlanned(ref.getEpochsPlanned())
        .setStepsInEpoch(ref.getStepsInEpoch()).setUnfreezeStage(run.session.unfreezeStage()).build();
    ctx.status(run.job, phase == Phase.TRAIN ? JobStatus.State.TRAINING : JobStatus.State.DISTILLING, message, at);
  }

  private void failJob(Run run, String reason) {
    runs.remove(run.job);
    close(run);
    failJob(run.job, reason);
  }

  private void failJob(String job, String reason) {
    finished.add(job);
    ctx.status(job, JobStatus.State.FAILED, reason);
    LOG.warn("{}: FAILED: {}", job, reason);
  }

  /** Jobs on partitions this replica lost are dropped; their new owner resumes from the last checkpoint. */
  public void onRevoked(Collection<TopicPartition> partitions) {
    Set<Integer> lost = new HashSet<>();
    for (TopicPartition tp : partitions) {
      lost.add(tp.partition());
    }
    runs.values().removeIf(run -> {
      if (lost.contains(run.partition)) {
        LOG.info("{}: partition {} revoked, job handed over", run.job, run.partition);
        close(run);
        return true;
      }
      return false;
    });
  }

  private static void close(Run run) {
    run.session.close();
    if (run.teacher != null) {
      run.teacher.close();
    }
  }

  @Override
  public void close() {
    runs.values().forEach(PhaseTrainer::close);
    runs.clear();
  }
}
