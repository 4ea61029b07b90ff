package io.tunefleet.ml.report;

import io.tunefleet.ml.metrics.ConfusionMatrix;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * What a fine-tuning job produced, epoch by epoch and at the end: the input of a {@link JobReport}.
 *
 * @param student present when the job distilled the teacher into a smaller network
 * @param tsneImage file name of a t-SNE PNG already in (or to be put into) the report folder
 */
public record JobHistory(
    String jobId,
    List<Epoch> epochs,
    Confusion confusion,
    List<ClassScores> perClass,
    Model teacher,
    Optional<Model> student,
    Optional<String> tsneImage,
    List<String> notes) {

  public JobHistory {
    Objects.requireNonNull(jobId, "jobId");
    Objects.requireNonNull(confusion, "confusion");
    Objects.requireNonNull(teacher, "teacher");
    epochs = List.copyOf(epochs);
    perClass = List.copyOf(perClass);
    student = Objects.requireNonNull(student, "student");
    tsneImage = Objects.requireNonNull(tsneImage, "tsneImage");
    notes = List.copyOf(notes);
  }

  /** Teacher parameters per student parameter, when there is a student. */
  public OptionalDouble compressionRatio() {
    return student.filter(s -> s.parameters() > 0)
        .map(s -> OptionalDouble.of((double) teacher.parameters() / s.parameters()))
        .orElse(OptionalDouble.empty());
  }

  /**
   * One epoch's record; a metric that was not measured is NaN.
   *
   * @param phase {@link #TRAIN} or {@link #DISTILL}; epochs are numbered within their phase
   * @param learningRates parameter group to rate, in the order the groups should be shown
   * @param unfreezeStage how many backbone stages were trainable (see {@code UnfreezeSchedule})
   */
  public record Epoch(
      String phase,
      int epoch,
      double trainLoss,
      double trainAccuracy,
      double valAccuracy,
      double valMacroF1,
      Map<String, Double> learningRates,
      int unfreezeStage) {
    public static final String TRAIN = "TRAIN";
    public static final String DISTILL = "DISTILL";

    public Epoch {
      Objects.requireNonNull(phase, "phase");
      learningRates.forEach((group, rate) -> Objects.requireNonNull(rate, "learning rate of " + group));
      // LinkedHashMap, not Map.copyOf: the caller's group order (head first, …) is kept.
      learningRates = Collections.unmodifiableMap(new LinkedHashMap<>(learningRates));
    }
  }

  /** Final validation counts, row-major k×k, rows = true class, columns = predicted class. */
  public record Confusion(long[] counts, int k, List<String> classNames) {
    public Confusion {
      if (k < 1 || counts.length != (long) k * k) {
        throw new IllegalArgumentException("need k×k = " + k + "×" + k + " counts, got " + counts.length);
      }
      if (classNames.size() != k) {
        throw new IllegalArgumentException(k + " classes but " + classNames.size() + " names");
      }
      counts = counts.clone();
      classNames = List.copyOf(classNames);
    }

    public static Confusion of(ConfusionMatrix matrix, List<String> classNames) {
      int k = classNames.size();
      long[] counts = new long[k * k];
      for (int t = 0; t < k; t++) {
        for (int p = 0; p < k; p++) {
          counts[t * k + p] = matrix.count(t, p);
        }
      }
      return new Confusion(counts, k, classNames);
    }

    @Override
    public long[] counts() {
      return counts.clone();
    }

    /** Examples whose true class is {@code c}. */
    public long support(int c) {
      long s = 0;
      for (int p = 0; p < k; p++) {
        s += counts[c * k + p];
      }
      return s;
    }
  }

  /** Precision, recall and F1 of one class on the final validation pass. */
  public record ClassScores(String className, double precision, double recall, double f1) {
    public static List<ClassScores> of(ConfusionMatrix matrix, List<String> classNames) {
      List<ClassScores> scores = new ArrayList<>();
      for (int c = 0; c < classNames.size(); c++) {
        scores.add(new ClassScores(classNames.get(c), matrix.precision(c), matrix.recall(c), matrix.f1(c)));
      }
      return scores;
    }
  }

  /** A trained network's size and final validation quality. */
  public record Model(String architecture, long parameters, double accuracy, double macroF1) {}
}
