package io.tunefleet.distiller;

import io.tunefleet.common.blob.BlobStore;
import io.tunefleet.common.blob.JobPaths;
import io.tunefleet.ml.report.JobHistory;
import io.tunefleet.ml.report.JobReport;
import io.tunefleet.proto.v1.BlobRef;
import io.tunefleet.proto.v1.Checkpoint;
import io.tunefleet.proto.v1.ClassMetrics;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.FinishedModel;
import io.tunefleet.proto.v1.Metrics;
import io.tunefleet.proto.v1.ModelFinished;
import io.tunefleet.proto.v1.Phase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Writes a finished job's report (Markdown + plots) into its blob folder, from the history the fleet
 * left there: each epoch's Checkpoint event (train loss and accuracy, learning rates, unfreeze stage,
 * gradient diagnostics) and verdict (validation accuracy and macro-F1), and the final models.
 */
final class JobReports {
  private JobReports() {}

  static BlobRef write(BlobStore blobs, ModelFinished done, String... extraNotes) throws IOException {
    String job = done.getJobId();
    List<JobHistory.Epoch> epochs = new ArrayList<>();
    Set<String> notes = new LinkedHashSet<>();
    notes.add("Base model: " + done.getLineage().getBaseModel());
    notes.add("Dataset sha256: " + done.getLineage().getDatasetSha256());
    if (blobs.exists(JobPaths.accepted(job))) {
      // the data-augmenter's acceptance summary: split sizes, input size and normalisation, unreadable files skipped
      String accepted = new String(blobs.read(JobPaths.accepted(job)), java.nio.charset.StandardCharsets.UTF_8).trim();
      if (accepted.startsWith("accepted: ")) {
        notes.add("Dataset " + accepted);
      }
    }
    notes.addAll(List.of(extraNotes));
    for (Phase phase : new Phase[] {Phase.TRAIN, Phase.DISTILL}) {
      for (int e = 0; blobs.exists(JobPaths.checkpointEvent(job, phase, e)); e++) {
        Checkpoint c = Checkpoint.parseFrom(blobs.read(JobPaths.checkpointEvent(job, phase, e)));
        String verdictPath = JobPaths.evaluation(job, phase, e);
        Metrics val = blobs.exists(verdictPath) ? Evaluation.parseFrom(blobs.read(verdictPath)).getMetrics() : null;
        epochs.add(new JobHistory.Epoch(phase.name(), e, c.getTrainLoss(), c.getTrainAccuracy(),
            val == null ? Double.NaN : val.getAccuracy(), val == null ? Double.NaN : val.getMacroF1(),
            c.getLearningRatesMap(), c.getUnfreezeStage()));
        for (String w : c.getDiagnostics().getWarningsList()) {
          notes.add(phase + " epoch " + (e + 1) + ": " + w);
        }
      }
    }
    FinishedModel teacher = done.getTeacher();
    Metrics m = teacher.getMetrics();
    List<String> names = m.getPerClassList().stream().map(ClassMetrics::getName).toList();
    List<JobHistory.ClassScores> perClass = m.getPerClassList().stream()
        .map(c -> new JobHistory.ClassScores(c.getName(), c.getPrecision(), c.getRecall(), c.getF1())).toList();
    String dir = JobPaths.reportDir(job);
    Optional<String> tsne = Optional.empty();
    String tsnePath = JobPaths.evaluationFile(job, Phase.TRAIN, "tsne.png");
    if (blobs.exists(tsnePath)) {
      blobs.put(dir + "/tsne.png", blobs.read(tsnePath));
      tsne = Optional.of("tsne.png");
    }
    JobHistory history = new JobHistory(job, epochs,
        new JobHistory.Confusion(m.getConfusionList().stream().mapToLong(Long::longValue).toArray(), m.getNumClasses(), names),
        perClass, model(teacher), done.hasStudent() ? Optional.of(model(done.getStudent())) : Optional.empty(), tsne,
        List.copyOf(notes));
    // rendered in a scratch folder, then stored file by file (the store may be S3), the Markdown last so that a
    // reader who finds it finds its plots too
    Path scratch = Files.createTempDirectory("fleet-report-");
    try {
      BlobRef markdown = null;
      for (Path file : new JobReport(history).writeTo(scratch)) {
        BlobRef ref = blobs.put(dir + "/" + file.getFileName(), Files.readAllBytes(file));
        if (file.getFileName().toString().equals(JobReport.MARKDOWN)) {
          markdown = ref;
        }
      }
      if (markdown == null) {
        throw new IOException("the job report wrote no " + JobReport.MARKDOWN);
      }
      return markdown;
    } finally {
      BlobStore.deleteTree(scratch);
    }
  }

  private static JobHistory.Model model(FinishedModel f) {
    return new JobHistory.Model(f.getArchitectureName(), f.getParameterCount(), f.getAccuracy(), f.getMacroF1());
  }
}
