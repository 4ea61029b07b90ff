package io.tunefleet.training;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.common.service.ServiceContext;
import io.tunefleet.proto.v1.BatchRef;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.ModelManifest;
import java.io.IOException;

/**
 * Makes an epoch durable, in the order that keeps a replay harmless: the weights, momentum, recipe stage and position
 * first, then the announcement on {@code fleet.checkpoints}, then the resume point, and only then the epoch's batches
 * are freed.
 */
final class CheckpointWriter {
  private final ServiceContext ctx;
  private final BlobStore blobs;
  private final PhaseRole role;

  CheckpointWriter(ServiceContext ctx, PhaseRole role) {
    this.ctx = ctx;
    this.blobs = ctx.blobs();
    this.role = role;
  }

  /** The job's last announced checkpoint, or null before its first. */
  Checkpoint last(String job) throws IOException {
    String path = JobPaths.latestCheckpoint(job, role.phase());
    return blobs.exists(path) ? Checkpoint.parseFrom(blobs.read(path)) : null;
  }

  Checkpoint write(JobRun run, BatchRef ref) throws IOException {
    ModelManifest manifest = ModelManifest.newBuilder().setJobId(run.job).setPhase(role.phase()).setEpoch(run.epoch)
        .setGlobalStep(run.globalStep).setUnfreezeStage(run.session.unfreezeStage())
        .setRngSeed(run.request.getRecipe().getSeed()).setNote("fleet " + role.phase() + " checkpoint").build();
    BlobRef weights = blobs.put(JobPaths.checkpoint(run.job, role.phase(), run.epoch), run.session.save(manifest, true));
    Checkpoint.Builder c = Checkpoint.newBuilder().setJobId(run.job).setPhase(role.phase()).setEpoch(run.epoch)
        .setGlobalStep(run.globalStep).setCheckpoint(weights).setRequest(ref.getRequest())
        .setValidation(ref.getValidation()).setEpochsPlanned(ref.getEpochsPlanned())
        .setArchitecture(run.session.net().architecture()).setParameterCount(run.session.parameterCount())
        .setTrainLoss(run.meanLoss()).setTrainAccuracy(run.accuracy()).setImagesPerS(run.imagesPerSecond())
        .setUnfreezeStage(run.session.unfreezeStage()).putAllLearningRates(run.session.learningRates());
    if (ref.hasTeacher()) {
      c.setTeacher(ref.getTeacher());
    }
    if (ref.hasTrainSplit()) {
      c.setTrainSplit(ref.getTrainSplit());
    }
    if (run.diagnostics != null) {
      c.setDiagnostics(run.diagnostics);
    }
    Checkpoint event = c.build();
    // kept beside the weights: the job report reads the epoch history from here
    blobs.put(JobPaths.checkpointEvent(run.job, role.phase(), run.epoch), event.toByteArray());
    ctx.producer().sendAndWait(ctx.topics().checkpoints, run.job, event);
    blobs.put(JobPaths.latestCheckpoint(run.job, role.phase()), event.toByteArray());
    blobs.deleteTree(JobPaths.epochDir(run.job, role.phase(), run.epoch));
    return event;
  }
}
