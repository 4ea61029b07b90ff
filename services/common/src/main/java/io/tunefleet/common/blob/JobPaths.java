package io.tunefleet.common.blob;

import io.tunefleet.proto.v1.Phase;
import java.util.Locale;

/**
 * Where a job's files live in the blob store. One layout, shared by every service:
 * <pre>
 * jobs/JOB/request.pb                      the accepted, fully resolved TrainingRequest
 * jobs/JOB/accepted                        written once the first epochs are published
 * jobs/JOB/data/validation.batch           the validation split (unaugmented): one batch, or a list of shards
 * jobs/JOB/in-flight/accept                work under way (its attempts), deleted when it ends; left by a crash
 * jobs/JOB/batches/train/e0003/s00012.batch
 * jobs/JOB/checkpoints/train/e0003.ckpt    weights + momentum + manifest
 * jobs/JOB/checkpoints/train/latest.pb     the last Checkpoint event (resume point)
 * jobs/JOB/evaluations/train/e0003.pb      the verdict on a checkpoint (replays republish it)
 * jobs/JOB/models/teacher.model            exported weights of the finished models (the fleet's format)
 * jobs/JOB/models/teacher/model.onnx       the same model for serving: model.onnx, model.safetensors, model.json
 * </pre>
 */
public final class JobPaths {
  private JobPaths() {}

  public static String request(String job) {
    return "jobs/" + job + "/request.pb";
  }

  public static String accepted(String job) {
    return "jobs/" + job + "/accepted";
  }

  /**
   * The marker of heavy work under way on a job ({@code accept}, {@code train-e0003}): written before it starts,
   * deleted when it ends, so one left behind means the replica died doing it (the count of such attempts).
   */
  public static String inFlight(String job, String work) {
    return "jobs/" + job + "/in-flight/" + work;
  }

  public static String validation(String job) {
    return "jobs/" + job + "/data/validation.batch";
  }

  /** The sha256 over the dataset's files (lineage of the finished models). */
  public static String datasetSha256(String job) {
    return "jobs/" + job + "/data/dataset.sha256";
  }

  /** The unaugmented training split (curriculum difficulty is scored on it). */
  public static String trainSplit(String job) {
    return "jobs/" + job + "/data/train.batch";
  }

  public static String epochDir(String job, Phase phase, int epoch) {
    return String.format(Locale.ROOT, "jobs/%s/batches/%s/e%04d", job, name(phase), epoch);
  }

  public static String batch(String job, Phase phase, int epoch, int index) {
    return String.format(Locale.ROOT, "%s/s%05d.batch", epochDir(job, phase, epoch), index);
  }

  /** Marks an epoch's batches as produced and published. */
  public static String epochDone(String job, Phase phase, int epoch) {
    return epochDir(job, phase, epoch) + ".done";
  }

  public static String checkpoint(String job, Phase phase, int epoch) {
    return String.format(Locale.ROOT, "jobs/%s/checkpoints/%s/e%04d.ckpt", job, name(phase), epoch);
  }

  /** The Checkpoint event of an epoch, kept for the job report. */
  public static String checkpointEvent(String job, Phase phase, int epoch) {
    return String.format(Locale.ROOT, "jobs/%s/checkpoints/%s/e%04d.pb", job, name(phase), epoch);
  }

  public static String latestCheckpoint(String job, Phase phase) {
    return String.format(Locale.ROOT, "jobs/%s/checkpoints/%s/latest.pb", job, name(phase));
  }

  public static String evaluation(String job, Phase phase, int epoch) {
    return String.format(Locale.ROOT, "jobs/%s/evaluations/%s/e%04d.pb", job, name(phase), epoch);
  }

  /** Another file of a phase's evaluations (plots). */
  public static String evaluationFile(String job, Phase phase, String name) {
    return String.format(Locale.ROOT, "jobs/%s/evaluations/%s/%s", job, name(phase), name);
  }

  /** The job report folder (report.md and its plots). */
  public static String reportDir(String job) {
    return "jobs/" + job + "/report";
  }

  public static String lastEvaluation(String job, Phase phase) {
    return String.format(Locale.ROOT, "jobs/%s/evaluations/%s/last.pb", job, name(phase));
  }

  public static String model(String job, String name) {
    return "jobs/" + job + "/models/" + name + ".model";
  }

  /** A serving file of a finished model ({@code model.onnx}, {@code model.safetensors}, {@code model.json}). */
  public static String modelArtifact(String job, String name, String file) {
    return "jobs/" + job + "/models/" + name + "/" + file;
  }

  public static String finished(String job) {
    return "jobs/" + job + "/models/finished.pb";
  }

  private static String name(Phase phase) {
    return phase.name().toLowerCase(Locale.ROOT);
  }
}
