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
import java.nio.file.StandardCopyOption;
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

  static BlobRef write(BlobStore blobs, ModelFinished done) throws IOException {
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
    Path dir = blobs.root().resolve(JobPaths.reportDir(job));
    Files.createDirectories(dir);
    Optional<String> tsne = Optional.empty();
    Path tsneFile = blobs.root().resolve(JobPaths.evaluationFile(job, Phase.TRAIN, "tsne.png"));
    if (Files.exists(tsneFile)) {
      Files.copy(tsneFile, dir.resolve("tsne.png"), StandardCopyOption.REPLACE_EXISTING);
      tsne = Optional.of("tsne.png");
    }
    JobHistory history = new JobHistory(job, epochs,
        new JobHistory.Confusion(m.getConfusionList().stream().mapToLong(Long::longValue).toArray(), m.getNumClasses(), names),
        perClass, model(teacher), done.hasStudent() ? Optional.of(model(done.getStudent())) : Optional.empty(), tsne,
        List.copyOf(notes));
    new JobReport(history).writeTo(dir);
    return blobs.refOf(JobPaths.reportDir(job) + "/" + JobReport.MARKDOWN);
  }

  private static JobHistory.Model model(FinishedModel f) {
    return new JobHistory.Model(f.getArchitectureName(), f.getParameterCount(), f.getAccuracy(), f.getMacroF1());
  }
}
