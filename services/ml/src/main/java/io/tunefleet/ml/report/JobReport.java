package io.tunefleet.ml.report;

import io.tunefleet.ml.report.JobHistory.ClassScores;
import io.tunefleet.ml.report.JobHistory.Confusion;
import io.tunefleet.ml.report.JobHistory.Epoch;
import io.tunefleet.ml.report.JobHistory.Model;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;
import java.util.stream.Collectors;

/** A fine-tuning job's Markdown report with its charts, written into one folder. */
public final class JobReport {
  public static final String MARKDOWN = "report.md";
  public static final String LOSS = "loss.png";
  public static final String ACCURACY = "accuracy.png";
  public static final String LEARNING_RATE = "lr.png";
  public static final String CONFUSION = "confusion.png";

  private static final Plots CURVE_PLOTS = new Plots(900, 500);
  private static final String MISSING = "—";

  private final JobHistory history;
  private final EpochCurves curves;

  public JobReport(JobHistory history) {
    this.history = history;
    this.curves = new EpochCurves(history.epochs());
  }

  /**
   * Writes the four charts and then {@code report.md} (last, so it never links a missing image) into
   * {@code folder}, creating it if needed; returns the files written in that order.
   */
  public List<Path> writeTo(Path folder) throws IOException {
    Files.createDirectories(folder);
    List<Path> written = new ArrayList<>();
    written.add(write(folder.resolve(LOSS),
        CURVE_PLOTS.lines("Training loss", curves.xLabel(), "loss", curves.loss(), curves.phaseChanges())));
    written.add(write(folder.resolve(ACCURACY),
        CURVE_PLOTS.lines("Accuracy and macro-F1", curves.xLabel(), "score", curves.quality(), curves.phaseChanges())));
    written.add(write(folder.resolve(LEARNING_RATE),
        CURVE_PLOTS.lines("Learning rate per parameter group", curves.xLabel(), "learning rate",
            curves.learningRates(), curves.stageChanges(), curves.learningRateScale())));
    Confusion cm = history.confusion();
    written.add(write(folder.resolve(CONFUSION),
        confusionPlots(cm.k()).confusionMatrix(cm.counts(), cm.k(), cm.classNames(), "Confusion matrix (validation)")));
    written.add(write(folder.resolve(MARKDOWN), markdown().getBytes(StandardCharsets.UTF_8)));
    return written;
  }

  /** Room for labels plus roughly 48 pixels a class, within sensible bounds. */
  private static Plots confusionPlots(int k) {
    int side = Math.max(480, Math.min(1400, 200 + 48 * k));
    return new Plots(side + 80, side);
  }

  private static Path write(Path file, byte[] bytes) throws IOException {
    Files.write(file, bytes);
    return file;
  }

  /** The report's Markdown text. */
  public String markdown() {
    StringBuilder md = new StringBuilder();
    md.append("# Fine-tuning report: job ").append(MarkdownTable.escape(history.jobId())).append("\n\n");
    md.append("## Summary\n\n").append(summary()).append('\n');
    md.append(training()).append('\n');
    md.append("## Curves\n\n");
    md.append(image("Training loss", LOSS)).append("\n\n");
    md.append(image("Accuracy and macro-F1", ACCURACY)).append("\n\n");
    md.append(image("Learning rate per parameter group", LEARNING_RATE)).append("\n\n");
    md.append("## Epochs\n\n").append(epochTable()).append('\n');
    md.append("## Per-class metrics\n\n").append(perClassTable()).append('\n');
    md.append("## Confusion matrix\n\nRows are true classes, columns predicted classes.\n\n");
    md.append(image("Confusion matrix", CONFUSION)).append("\n\n");
    history.tsneImage().ifPresent(file -> md.append("## t-SNE of validation features\n\n")
        .append(image("t-SNE embedding", file)).append("\n\n"));
    if (!history.notes().isEmpty()) {
      md.append("## Notes\n\n");
      history.notes().forEach(n -> md.append("- ").append(MarkdownTable.escape(n)).append('\n'));
      md.append('\n');
    }
    return md.toString();
  }

  private String summary() {
    Optional<Model> student = history.student();
    Model teacher = history.teacher();
    MarkdownTable t = student.isPresent() ? new MarkdownTable("", "#Teacher", "#Student") : new MarkdownTable("", "#Model");
    t.row("Architecture", teacher.architecture(), student.map(Model::architecture).orElse(null));
    t.row("Parameters", count(teacher.parameters()), student.map(s -> count(s.parameters())).orElse(null));
    t.row("Accuracy", decimal(teacher.accuracy()), student.map(s -> decimal(s.accuracy())).orElse(null));
    t.row("Macro-F1", decimal(teacher.macroF1()), student.map(s -> decimal(s.macroF1())).orElse(null));
    OptionalDouble ratio = history.compressionRatio();
    if (ratio.isPresent()) {
      t.row("Compression ratio", MISSING, String.format(Locale.ROOT, "%.2f×", ratio.getAsDouble()));
    }
    return t.toString();
  }

  /** One column per phase: teacher training and distillation are not comparable with each other. */
  private String training() {
    List<String> phases = history.epochs().stream().map(Epoch::phase).distinct().toList();
    if (phases.isEmpty()) {
      return "No epochs were recorded.\n";
    }
    String[] columns = new String[phases.size() + 1];
    columns[0] = "Training";
    for (int i = 0; i < phases.size(); i++) {
      columns[i + 1] = "#" + phases.get(i);
    }
    MarkdownTable t = new MarkdownTable(columns);
    t.row(perPhase(phases, "Epochs", epochs -> Integer.toString(epochs.size())));
    t.row(perPhase(phases, "Best validation accuracy", epochs -> best(epochs, Epoch::valAccuracy)));
    t.row(perPhase(phases, "Best validation macro-F1", epochs -> best(epochs, Epoch::valMacroF1)));
    t.row(perPhase(phases, "Final unfreeze stage",
        epochs -> Integer.toString(epochs.get(epochs.size() - 1).unfreezeStage())));
    return t.toString();
  }

  private String[] perPhase(List<String> phases, String name, Function<List<Epoch>, String> cell) {
    String[] row = new String[phases.size() + 1];
    row[0] = name;
    for (int i = 0; i < phases.size(); i++) {
      String phase = phases.get(i);
      row[i + 1] = cell.apply(history.epochs().stream().filter(e -> e.phase().equals(phase)).toList());
    }
    return row;
  }

  private static String best(List<Epoch> epochs, ToDoubleFunction<Epoch> metric) {
    return epochs.stream()
        .filter(e -> Double.isFinite(metric.applyAsDouble(e)))
        .max(Comparator.comparingDouble(metric))
        .map(e -> decimal(metric.applyAsDouble(e)) + " (epoch " + e.epoch() + ")")
        .orElse(MISSING);
  }

  private String epochTable() {
    MarkdownTable t = new MarkdownTable(
        "Phase", "#Epoch", "#Train loss", "#Train acc", "#Val acc", "#Val macro-F1", "#Unfreeze stage", "Learning rates");
    for (Epoch e : history.epochs()) {
      String rates = e.learningRates().entrySet().stream()
          .map(r -> r.getKey() + " " + rate(r.getValue()))
          .collect(Collectors.joining(", "));
      t.row(e.phase(), Integer.toString(e.epoch()), decimal(e.trainLoss()), decimal(e.trainAccuracy()),
          decimal(e.valAccuracy()), decimal(e.valMacroF1()), Integer.toString(e.unfreezeStage()), rates);
    }
    return t.toString();
  }

  private String perClassTable() {
    Confusion cm = history.confusion();
    MarkdownTable t = new MarkdownTable("Class", "#Precision", "#Recall", "#F1", "#Support");
    for (ClassScores s : history.perClass()) {
      int index = cm.classNames().indexOf(s.className());
      t.row(s.className(), decimal(s.precision()), decimal(s.recall()), decimal(s.f1()),
          index >= 0 ? count(cm.support(index)) : MISSING);
    }
    return t.toString();
  }

  private static String image(String alt, String file) {
    // Angle brackets let a link target contain spaces.
    String target = file.contains(" ") ? "<" + file + ">" : file;
    return "![" + MarkdownTable.escape(alt) + "](" + target + ")";
  }

  static String decimal(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : MISSING;
  }

  static String rate(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.2e", v) : MISSING;
  }

  static String count(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }
}
