package io.tunefleet.training;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.CorruptBlobException;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.common.kafka.RecordContext;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.ml.data.BatchCodec;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.BaseModels;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.Devices;
import io.tunefleet.ml.train.StepResult;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.JobStatus;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Progress;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains one phase of jobs — the teacher (TRAIN) or the student (DISTILL) — from a stream of
 * {@link BatchRef}s. Steps are applied exactly once: a batch at or before the job's position is
 * skipped, a gap fails the job, the committed offset is held back until the epoch's checkpoint is durable
 * and announced ({@link CheckpointWriter}), and a replica that takes over a job resumes from that
 * checkpoint. What happens around a step (divergence check, metrics, gradient diagnostics, progress) is a
 * {@link StepListener}. Used by the trainer and, with the distillation loss, by the distiller.
 */
public final class PhaseTrainer implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PhaseTrainer.class);

  private final ServiceContext ctx;
  private final Phase phase;
  private final PhaseRole role;
  private final BlobStore blobs;
  private final Device device;
  private final PathPolicy paths;
  private final Map<String, JobRun> runs = new HashMap<>();
  private final Set<String> finished = new HashSet<>();
  private final TrainingMeters meters;
  private final CheckpointWriter checkpoints;
  private final List<StepListener> listeners;

  public PhaseTrainer(ServiceContext ctx, Phase phase) {
    this.ctx = ctx;
    this.phase = phase;
    this.role = PhaseRole.of(phase);
    this.blobs = ctx.blobs();
    this.paths = new PathPolicy(ctx.config().dataRoots());
    this.device = Devices.choose(ctx.config().get(FleetConfig.DEVICE));
    this.meters = new TrainingMeters(ctx.registry(), role.metricPrefix());
    this.checkpoints = new CheckpointWriter(ctx, role);
    // the divergence check first: a rejected step must reach no other listener
    this.listeners = List.of(new DivergenceCheck(), meters, new GradientDiagnosticsListener(ctx, meters),
        new ProgressReporter(ctx, role));
    LOG.info("{} trains on {}", phase, device);
  }

  public Phase phase() {
    return phase;
  }

  public void onEvaluation(Evaluation ev, RecordContext context) {
    if (ev.getPhase() == phase && ev.getVerdict() != Evaluation.Verdict.CONTINUE) {
      // the phase is over: drop the job and skip any batches produced ahead of the verdict. Steps of the epoch in
      // progress will never be in a checkpoint and need no replay: held back, they would pin the partition's offset
      finished.add(ev.getJobId());
      context.release(ev.getJobId());
      JobRun run = runs.remove(ev.getJobId());
      if (run != null) {
        close(run);
        ctx.jobStates().forget(run.job);
        meters.removeLater(run.job);
      }
    }
  }

  public void onBatch(ConsumerRecord<String, byte[]> record, BatchRef ref, RecordContext context) throws IOException {
    if (ref.getPhase() != phase || finished.contains(ref.getJobId())) {
      return;
    }
    String job = ref.getJobId();
    JobRun run = runs.get(job);
    if (run == null) {
      Checkpoint last = checkpoints.last(job);
      if (last != null && ref.getEpoch() <= last.getEpoch()) {
        // a replay of an epoch already in a checkpoint: its batch files are gone, and nothing is to be done
        return;
      }
      try {
        run = open(ref, record.partition(), last, context);
      } catch (CorruptBlobException e) {
        failJob(job, "refusing to train on a corrupt batch: " + e.getMessage(), context);
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
          run.epoch, run.next, ref.getEpoch(), ref.getIndexInEpoch()), context);
      return;
    }
    ImageBatch batch;
    try {
      batch = BatchCodec.decode(blobs.get(ref.getBatch()));
    } catch (CorruptBlobException e) {
      failJob(run, "refusing to train on a corrupt batch: " + e.getMessage(), context);
      return;
    }
    long batchReady = System.nanoTime();
    if (run.next == 0) {
      if (ref.hasUnfreezeStage()) {
        run.session.beginEpoch(run.epoch, ref.getUnfreezeStage());
      } else {
        run.session.beginEpoch(run.epoch);
      }
      run.beginEpoch();
    }
    // from the end of the previous step until this batch is read, verified and decoded
    long dataWait = run.lastStepEnd > 0 ? batchReady - run.lastStepEnd : 0;
    JobRun current = run;
    StepResult result;
    int every = run.request.getRecipe().getDiagnosticsEvery();
    boolean diagnose = every > 0 && (run.globalStep % every == 0 || ref.getIndexInEpoch() == ref.getStepsInEpoch() - 1);
    try {
      result = run.session.step(batch, run.teacher == null ? null : scope -> current.teacher.logits(scope, batch), diagnose);
    } catch (RuntimeException e) {
      failJob(run, String.format("training step %d of epoch %d failed: %s", run.next, run.epoch, e.getMessage()), context);
      return;
    }
    run.lastStepEnd = System.nanoTime();
    StepListener.Step step = new StepListener.Step(run, ref, result, dataWait);
    try {
      for (StepListener l : listeners) {
        l.beforeCount(step);
      }
    } catch (StepListener.StepRejected e) {
      failJob(run, e.getMessage(), context);
      return;
    }
    context.defer(job);
    run.count(result);
    listeners.forEach(l -> l.onStep(step));
    if (step.endOfEpoch()) {
      Checkpoint event = checkpoints.write(run, ref);
      for (StepListener l : listeners) {
        l.onCheckpoint(run, event);
      }
      LOG.info("{}: {} epoch {} checkpointed (loss {}, train acc {}, {} img/s)", run.job, phase, run.epoch,
          String.format("%.4f", event.getTrainLoss()), String.format("%.3f", event.getTrainAccuracy()),
          String.format("%.0f", event.getImagesPerS()));
      context.release(job);
      run.epoch++;
      run.next = 0;
    }
  }

  /** Builds the job's network: from its last checkpoint if one exists, else fresh (from the base model). */
  private JobRun open(BatchRef ref, int partition, Checkpoint last, RecordContext context) throws IOException {
    String job = ref.getJobId();
    TrainingRequest request = TrainingRequest.parseFrom(blobs.get(ref.getRequest()));
    ImageBatch first = BatchCodec.decode(blobs.get(ref.getBatch()));
    int imageSize = first.height();
    TrainingSession session;
    Classifier teacher = null;
    // the teacher and the student see the same batches, so both take the request's normalisation
    Normalization normalization = Normalization.fromId(request.getRecipe().getNormalization());
    if (phase == Phase.TRAIN) {
      session = TrainingSession.create(request.getBaseModel().getArchitecture(), imageSize, normalization,
          SessionConfigs.teacher(request), device, SessionConfigs.modelSeed(request, phase));
    } else {
      session = TrainingSession.create(request.getDistillation().getStudent(), imageSize, normalization,
          SessionConfigs.student(request), device, SessionConfigs.modelSeed(request, phase));
      teacher = Classifier.load(blobs.get(ref.getTeacher()), imageSize, device);
    }
    JobRun run = new JobRun(job, partition, request, session, teacher);
    try {
      if (last != null) {
        try (NDManager tmp = NDManager.newBaseManager(device)) {
          session.restore(ModelFile.decode(blobs.get(last.getCheckpoint()), tmp));
        }
        run.epoch = last.getEpoch() + 1;
        run.globalStep = last.getGlobalStep();
        LOG.info("{}: {} resumed from the checkpoint of epoch {} (step {})", job, phase, last.getEpoch(), last.getGlobalStep());
      } else if (phase == Phase.TRAIN && BaseModels.source(request.getBaseModel()) != null) {
        try (NDManager tmp = NDManager.newBaseManager(device)) {
          BaseModels.Base base = BaseModels.load(request.getBaseModel(), paths, tmp);
          int n = session.initBackboneFrom(base.weights());
          LOG.info("{}: backbone initialised from {} {} ({} tensors, BatchNorm running statistics included)",
              job, base.description().source().field(), base.description().file(), n);
        }
      }
    } catch (IOException | RuntimeException e) {
      run.close();
      failJob(job, "cannot prepare the " + phase + " network: " + e.getMessage(), context);
      return null;
    }
    announceTakeUp(run, ref, last);
    return run;
  }

  /**
   * Says that this replica took the job up: at its start, or from its last checkpoint after a handover (the
   * epoch in progress is trained again from its first step). Its progress is step 0 of the epoch it begins.
   */
  private void announceTakeUp(JobRun run, BatchRef ref, Checkpoint last) {
    String what = role.activity();
    String message = last == null ? what + " started on this replica"
        : String.format(java.util.Locale.ROOT, "%s resumed on this replica from the checkpoint of epoch %d (step %d): "
            + "epoch %d restarts from its first step", what, last.getEpoch() + 1, last.getGlobalStep(), run.epoch + 1);
    Progress at = Progress.newBuilder().setPhase(phase).setEpoch(run.epoch).setEpochsPlanned(ref.getEpochsPlanned())
        .setStepsInEpoch(ref.getStepsInEpoch()).setUnfreezeStage(run.session.unfreezeStage()).build();
    ctx.status(run.job, role.activeState(), message, at);
  }

  private void failJob(JobRun run, String reason, RecordContext context) {
    runs.remove(run.job);
    close(run);
    failJob(run.job, reason, context);
  }

  /** Ends the job here; its held-back steps are released, since a failed job is never resumed. */
  private void failJob(String job, String reason, RecordContext context) {
    finished.add(job);
    context.release(job);
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

  private void close(JobRun run) {
    run.close();
    listeners.forEach(l -> l.onJobClosed(run.job));
  }

  @Override
  public void close() {
    runs.values().forEach(this::close);
    runs.clear();
    meters.close();
  }
}
