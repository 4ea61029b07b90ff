package io.tunefleet.ml.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.report.JobHistory.ClassScores;
import io.tunefleet.ml.report.JobHistory.Confusion;
import io.tunefleet.ml.report.JobHistory.Epoch;
import io.tunefleet.ml.report.JobHistory.Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobReportTest {
  @TempDir Path folder;

  private static Map<String, Double> rates(double head, Double layer4) {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("head", head);
    if (layer4 != null) {
      m.put("layer4", layer4);
    }
    return m;
  }

  private static JobHistory history(Optional<Model> student) {
    List<Epoch> epochs = new ArrayList<>();
    epochs.add(new Epoch(Epoch.TRAIN, 1, 1.234567, 0.61, 0.655555, 0.60001, rates(1e-2, null), 0));
    epochs.add(new Epoch(Epoch.TRAIN, 2, 0.9, 0.72, 0.71, 0.70, rates(1e-2, null), 0));
    epochs.add(new Epoch(Epoch.TRAIN, 3, 0.7, 0.80, 0.78, 0.77, rates(5e-3, 1e-4), 1));
    epochs.add(new Epoch(Epoch.DISTILL, 1, 2.5, 0.70, 0.74, 0.73, rates(1e-2, 1e-3), 1));
    epochs.add(new Epoch(Epoch.DISTILL, 2, 2.1, 0.75, Double.NaN, Double.NaN, rates(5e-3, 5e-4), 1));
    Confusion confusion = new Confusion(new long[] {40, 2, 5, 53}, 2, List.of("cat", "dog_breed"));
    List<ClassScores> perClass = List.of(
        new ClassScores("cat", 0.888888, 0.952381, 0.919540),
        new ClassScores("dog_breed", 0.963636, 0.913793, 0.938053));
    return new JobHistory("job-42", epochs, confusion, perClass,
        new Model("resnet50", 23_528_522, 0.93, 0.9288), student,
        Optional.of("tsne.png"), List.of("early stop at epoch 3", "pipe | in a note"));
  }

  @Test
  void writesTheMarkdownAndEveryChartAndLinksThem() throws Exception {
    List<Path> written = new JobReport(history(Optional.of(new Model("resnet18", 11_181_642, 0.91, 0.905))))
        .writeTo(folder.resolve("reports"));
    List<String> names = written.stream().map(p -> p.getFileName().toString()).toList();
    assertEquals(List.of("loss.png", "accuracy.png", "lr.png", "confusion.png", "report.md"), names);
    for (Path p : written) {
      assertTrue(Files.size(p) > 0, p + " is empty");
      if (p.toString().endsWith(".png")) {
        assertNotNull(ImageIO.read(p.toFile()), p + " does not decode");
      }
    }
    String md = Files.readString(folder.resolve("reports").resolve(JobReport.MARKDOWN));
    for (String png : List.of("loss.png", "accuracy.png", "lr.png", "confusion.png", "tsne.png")) {
      assertTrue(md.contains("](" + png + ")"), "no image link to " + png);
    }
  }

  @Test
  void formatsNumbersForReading() {
    String md = new JobReport(history(Optional.of(new Model("resnet18", 11_181_642, 0.91, 0.905)))).markdown();
    assertTrue(md.contains("| TRAIN | 1 | 1.2346 | 0.6100 | 0.6556 | 0.6000 | 0 | head 1.00e-02 |"), md);
    assertTrue(md.contains("| DISTILL | 2 | 2.1000 | 0.7500 | — | — | 1 | head 5.00e-03, layer4 5.00e-04 |"), md);
    assertTrue(md.contains("| Parameters | 23,528,522 | 11,181,642 |"), md);
    assertTrue(md.contains("| Compression ratio | — | 2.10× |"), md);
    assertTrue(md.contains("| cat | 0.8889 | 0.9524 | 0.9195 | 42 |"), md);
    assertTrue(md.contains("| dog\\_breed | 0.9636 | 0.9138 | 0.9381 | 58 |"), md);
    assertTrue(md.contains("| Training | TRAIN | DISTILL |"), md);
    assertTrue(md.contains("| Epochs | 3 | 2 |"), md);
    assertTrue(md.contains("| Best validation accuracy | 0.7800 (epoch 3) | 0.7400 (epoch 1) |"), md);
    assertTrue(md.contains("- pipe \\| in a note"), md);
    assertTrue(md.startsWith("# Fine-tuning report: job job-42\n"), md);
  }

  @Test
  void aJobWithoutDistillationHasOneModelColumnAndNoRatio() {
    String md = new JobReport(history(Optional.empty())).markdown();
    assertTrue(md.contains("|  | Model |"), md);
    assertFalse(md.contains("Compression ratio"), md);
  }

  @Test
  void aJobThatRecordedNoEpochsStillGetsAReport() throws Exception {
    JobHistory h = history(Optional.empty());
    JobHistory empty = new JobHistory(h.jobId(), List.of(), h.confusion(), h.perClass(), h.teacher(),
        Optional.empty(), Optional.empty(), List.of());
    List<Path> written = new JobReport(empty).writeTo(folder);
    assertEquals(5, written.size());
    String md = Files.readString(folder.resolve(JobReport.MARKDOWN));
    assertTrue(md.contains("No epochs were recorded."), md);
    assertFalse(md.contains("t-SNE"), md);
  }

  @Test
  void curvesSplitByPhaseAndMarkStageChanges() {
    EpochCurves curves = new EpochCurves(history(Optional.empty()).epochs());
    assertEquals(List.of("train loss (TRAIN)", "train loss (DISTILL)"),
        curves.loss().stream().map(Plots.Series::name).toList());
    assertEquals(List.of("head", "layer4"), curves.learningRates().stream().map(Plots.Series::name).toList());
    assertTrue(Double.isNaN(curves.learningRates().get(1).y()[0]), "layer4 has no rate before it is unfrozen");
    assertEquals(List.of(new Plots.Marker(2.5, "stage 1"), new Plots.Marker(3.5, "DISTILL")), curves.stageChanges());
    assertEquals(List.of(new Plots.Marker(3.5, "DISTILL")), curves.phaseChanges());
    assertEquals(Plots.Scale.LOG, curves.learningRateScale());
  }

  @Test
  void buildsConfusionAndScoresFromAConfusionMatrix() {
    ConfusionMatrix cm = new ConfusionMatrix(2);
    cm.add(new int[] {0, 0, 1, 1, 1}, new int[] {0, 1, 1, 1, 0});
    Confusion confusion = Confusion.of(cm, List.of("a", "b"));
    assertEquals(List.of(1L, 1L, 1L, 2L), java.util.Arrays.stream(confusion.counts()).boxed().toList());
    assertEquals(3, confusion.support(1));
    ClassScores b = ClassScores.of(cm, List.of("a", "b")).get(1);
    assertEquals(2.0 / 3, b.precision(), 1e-12);
    assertEquals(2.0 / 3, b.recall(), 1e-12);
  }
}
