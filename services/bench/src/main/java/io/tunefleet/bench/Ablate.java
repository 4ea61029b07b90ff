package io.tunefleet.bench;

import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.proto.v1.UnfreezeSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `fleet ablate`: the measurements behind RESULTS.md. Fine-tunes the demo's base model (pretrained by the fleet on
 * the even Fashion-MNIST classes) on a small subset of the odd classes with one recipe item changed at a time from
 * the fleet's defaults, over several seeds ({@link TransferTask}: epoch chosen on a validation split carved from the
 * training subset, the test images scored once); then a long-tailed variant, then distillation against the same
 * student trained on the labels alone. Each row is compared with its section's reference seed by seed
 * ({@link SeedStats}). Runs in-process (the recipe code the fleet runs, without Kafka) so that a section of dozens
 * of runs fits in minutes.
 */
@Command(name = "ablate", description = "Ablations of the recipe on Fashion-MNIST (the numbers in RESULTS.md), as Markdown.")
final class Ablate implements Callable<Integer> {
  private static final String RECIPE_REFERENCE = "full fine-tuning, one learning rate 0.05 (the fleet's default)";
  private static final String LONG_TAIL_REFERENCE = "linear head, uniform sampling";

  @Option(names = "--seeds", description = "Seeds per configuration (default ${DEFAULT-VALUE})")
  int seeds = 5;

  @Option(names = "--per-class", description = "Training images per class before the validation split "
      + "(default ${DEFAULT-VALUE})")
  int perClass = 100;

  @Option(names = "--epochs", description = "Epochs per run (default ${DEFAULT-VALUE})")
  int epochs = 15;

  @Option(names = "--section", description = "recipe, longtail, distill, smoothing or all (default ${DEFAULT-VALUE})")
  String section = "all";

  @Option(names = "--distill-per-class", description = "Distillation section: training images per class "
      + "(default ${DEFAULT-VALUE}: the demo's data)")
  int distillPerClass = 800;

  @Option(names = "--teacher-epochs", description = "Distillation section: teacher fine-tuning epochs (default ${DEFAULT-VALUE})")
  int teacherEpochs = 8;

  @Option(names = "--student-epochs", description = "Distillation section: student epochs (default ${DEFAULT-VALUE})")
  int studentEpochs = 6;

  @Option(names = "--kd", split = ",", description = "Distillation sections: the KD students to train against each "
      + "teacher, as T:alpha pairs (default ${DEFAULT-VALUE}; the first is the fleet's default); every teacher also "
      + "gets a cross-entropy-only student")
  List<String> kd = List.of("3:0.7");

  @Option(names = "--rows", description = "Only the rows of the recipe and long-tail tables whose configuration "
      + "contains this text, and the reference row (default: all)")
  String onlyRows = "";

  private TransferTask task;

  @Override
  public Integer call() throws Exception {
    if (!List.of("all", "recipe", "longtail", "distill", "smoothing").contains(section)) {
      throw new IllegalArgumentException("--section must be recipe, longtail, distill, smoothing or all, was '" + section + "'");
    }
    if (seeds < 2) {
      throw new IllegalArgumentException("--seeds must be at least 2 (the intervals need a spread), was " + seeds);
    }
    try (TransferTask t = new TransferTask()) {
      task = t;
      System.out.printf(Locale.ROOT, "Test: the %d test-split images of the odd classes, scored once per run with the "
          + "epoch its validation split chose; %d seeds per row; mean ± standard deviation; differences in points "
          + "with a paired 95 %% t-interval over the seeds.%n%n", t.test.size(), seeds);
      if (section.equals("all") || section.equals("recipe")) {
        timed("recipe", this::recipe);
      }
      if (section.equals("all") || section.equals("longtail")) {
        timed("longtail", this::longTail);
      }
      if (section.equals("all") || section.equals("smoothing")) {
        timed("smoothing", () -> distill(100, epochs, epochs, List.of(0.1, 0.0), List.of(kd.get(0))));
      }
      if (section.equals("all") || section.equals("distill")) {
        timed("distill", () -> distill(distillPerClass, teacherEpochs, studentEpochs, List.of(0.0), kd));
      }
    }
    return 0;
  }

  private interface Section {
    void run() throws Exception;
  }

  private static void timed(String name, Section section) throws Exception {
    long start = System.nanoTime();
    section.run();
    System.out.printf(Locale.ROOT, "_Section `%s`: %.1f min on %d cores._%n%n", name, (System.nanoTime() - start) / 6e10,
        Runtime.getRuntime().availableProcessors());
  }

  private void recipe() throws Exception {
    LabeledImages data = task.train(perClass);
    TransferTask.Split split = TransferTask.split(data, task.resolve(task.request(0, epochs)));
    System.out.printf(Locale.ROOT, "### Recipe: %d images per class, %d of them training and %d validation%n%n",
        perClass, split.train().size(), split.validation().size());
    Map<String, UnaryOperator<TrainingRequest.Builder>> rows = new LinkedHashMap<>();
    rows.put(RECIPE_REFERENCE, b -> b);
    rows.put("from scratch (random init, every stage trainable from epoch 1)", TransferTask::fromScratch);
    rows.put("head only, frozen backbone's BatchNorm statistics adapting (training mode)", b -> b.setRecipe(
        b.getRecipe().toBuilder().setUnfreeze(unfreeze(b).setEpochsPerStage(1000))));
    rows.put("head only, frozen backbone's BatchNorm statistics fixed (inference mode)", b -> b.setRecipe(
        b.getRecipe().toBuilder().setUnfreeze(unfreeze(b).setEpochsPerStage(1000).setFrozenBatchNorm("fixed"))));
    rows.put("backbone lr 0.01 (head 0.05)", b -> b.setRecipe(b.getRecipe().toBuilder().setLrBackbone(0.01)));
    rows.put("backbone lr 1e-4 (head 0.05; the classic choice)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setLrBackbone(1e-4)));
    rows.put("progressive unfreezing, 1 stage / epoch", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(unfreeze(b).setEpochsPerStage(1))));
    rows.put("progressive unfreezing on a macro-F1 plateau (patience 1)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(unfreeze(b).setPlateauPatience(1))));
    rows.put("no label smoothing", b -> b.setRecipe(b.getRecipe().toBuilder().setLabelSmoothing(0)));
    table(rows, RECIPE_REFERENCE, data);
  }

  private static UnfreezeSchedule.Builder unfreeze(TrainingRequest.Builder b) {
    return b.getRecipe().getUnfreeze().toBuilder();
  }

  private void longTail() throws Exception {
    int[] counts = {200, 100, 50, 30, 20};
    LabeledImages all = task.train(200);
    List<Integer> keep = new ArrayList<>();
    int[] taken = new int[counts.length];
    for (int i = 0; i < all.size(); i++) {
      int c = all.labels()[i];
      if (taken[c] < counts[c]) {
        taken[c]++;
        keep.add(i);
      }
    }
    LabeledImages data = all.subset(keep.stream().mapToInt(Integer::intValue).toArray());
    System.out.printf(Locale.ROOT, "### Long-tailed training set: %s images per class before the validation split "
        + "(imbalance ratio %d), %d epochs max%n%n", java.util.Arrays.toString(counts), counts[0] / counts[4], epochs);
    Map<String, UnaryOperator<TrainingRequest.Builder>> rows = new LinkedHashMap<>();
    HeadSpec mlp = HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP).setHidden(128).setDropout(0.5f).build();
    rows.put(LONG_TAIL_REFERENCE, b -> b);
    rows.put("linear head, class-balanced sampling", b -> b.setRecipe(b.getRecipe().toBuilder().setBalancedSampling(true)));
    rows.put("mlp head, uniform sampling", b -> b.setBaseModel(b.getBaseModel().toBuilder()
        .setArchitecture(Architecture.newBuilder().setHead(mlp))));
    rows.put("mlp head, class-balanced sampling", b -> b.setBaseModel(b.getBaseModel().toBuilder()
        .setArchitecture(Architecture.newBuilder().setHead(mlp))).setRecipe(b.getRecipe().toBuilder().setBalancedSampling(true)));
    table(rows, LONG_TAIL_REFERENCE, data);
  }

  private void table(Map<String, UnaryOperator<TrainingRequest.Builder>> configurations, String reference,
      LabeledImages data) throws Exception {
    System.out.println("| configuration | validation macro-F1 | best epoch | test accuracy | test macro-F1 "
        + "| test accuracy − reference, points (95 % CI) | |");
    System.out.println("| --- | ---: | ---: | ---: | ---: | ---: | --- |");
    double[] referenceAccuracy = null;
    for (Map.Entry<String, UnaryOperator<TrainingRequest.Builder>> row : configurations.entrySet()) {
      boolean isReference = row.getKey().equals(reference);
      if (!isReference && !row.getKey().contains(onlyRows)) {
        continue;
      }
      double[] validation = new double[seeds];
      double[] accuracy = new double[seeds];
      double[] f1 = new double[seeds];
      double epochSum = 0;
      for (int s = 0; s < seeds; s++) {
        TransferTask.Scored r = task.teacher(task.resolve(row.getValue().apply(task.request(s, epochs))), data);
        validation[s] = r.validationMacroF1();
        accuracy[s] = r.testAccuracy();
        f1[s] = r.testMacroF1();
        epochSum += r.bestEpoch();
        System.err.printf(Locale.ROOT, "ablate: %s seed %d: validation macro-F1 %.4f (epoch %d), test accuracy %.4f "
            + "macro-F1 %.4f%n", row.getKey(), s, validation[s], r.bestEpoch(), accuracy[s], f1[s]);
      }
      String versus = "reference";
      String verdict = "";
      if (isReference) {
        referenceAccuracy = accuracy;
      } else {
        SeedStats.Difference d = SeedStats.paired(accuracy, referenceAccuracy);
        versus = d.points();
        verdict = d.verdict();
      }
      System.out.printf(Locale.ROOT, "| %s | %s | %.1f | %s | %s | %s | %s |%n", row.getKey(), SeedStats.pm(validation),
          epochSum / seeds, SeedStats.pm(accuracy), SeedStats.pm(f1), versus, verdict);
    }
    System.out.println();
  }

  /**
   * Teachers fine-tuned with the fleet's defaults at each label smoothing, and per seed one student trained on the
   * labels alone (alpha 0: it does not depend on the teacher) and one per KD setting against each teacher, all from
   * the same seeded initialisation on the same batches. Each KD student is compared with the CE-only one seed by seed.
   */
  private void distill(int perClass, int teacherEpochs, int studentEpochs, List<Double> smoothings, List<String> kdSettings)
      throws Exception {
    LabeledImages data = task.train(perClass);
    System.out.printf(Locale.ROOT, "### Distillation: %d images per class before the validation split, teacher "
        + "fine-tuned %d epochs (the fleet's default recipe), students %d epochs%n%n", perClass, teacherEpochs,
        studentEpochs);
    List<double[]> settings = kdSettings.stream().map(v -> {
      String[] ta = v.split(":");
      return new double[] {Double.parseDouble(ta[0]), Double.parseDouble(ta[1])};
    }).toList();
    double[] ce = new double[seeds];
    double[] ceValidation = new double[seeds];
    long studentParams = 0;
    long teacherParams = 0;
    Map<Double, double[]> teacherAccuracy = new LinkedHashMap<>();
    Map<Double, double[][]> kdAccuracy = new LinkedHashMap<>();
    Map<Double, double[][]> kdValidation = new LinkedHashMap<>();
    for (double smoothing : smoothings) {
      teacherAccuracy.put(smoothing, new double[seeds]);
      kdAccuracy.put(smoothing, new double[settings.size()][seeds]);
      kdValidation.put(smoothing, new double[settings.size()][seeds]);
    }
    for (int s = 0; s < seeds; s++) {
      for (double smoothing : smoothings) {
        TrainingRequest.Builder b = task.request(s, teacherEpochs);
        b.getRecipeBuilder().setLabelSmoothing(smoothing);
        TrainingRequest r = task.resolve(b.setDistillation(Distillation.newBuilder().setEnabled(true)
            .setEpochs(studentEpochs)));
        TransferTask.Scored teacher = task.teacher(r, data);
        teacherAccuracy.get(smoothing)[s] = teacher.testAccuracy();
        teacherParams = teacher.run().parameters();
        if (smoothing == smoothings.get(0)) {
          TransferTask.Scored alone = task.student(r.toBuilder().setDistillation(r.getDistillation().toBuilder()
              .setAlpha(0)).build(), data, teacher.run().bestModel());
          ce[s] = alone.testAccuracy();
          ceValidation[s] = alone.validationMacroF1();
          studentParams = alone.run().parameters();
        }
        for (int i = 0; i < settings.size(); i++) {
          TransferTask.Scored student = task.student(r.toBuilder().setDistillation(r.getDistillation().toBuilder()
              .setTemperature(settings.get(i)[0]).setAlpha(settings.get(i)[1])).build(), data, teacher.run().bestModel());
          kdAccuracy.get(smoothing)[i][s] = student.testAccuracy();
          kdValidation.get(smoothing)[i][s] = student.validationMacroF1();
        }
        System.err.printf(Locale.ROOT, "ablate: distill seed %d, teacher label smoothing %s: teacher %.4f, CE %.4f, KD %s%n",
            s, fmt(smoothing), teacher.testAccuracy(), ce[s], seedColumn(kdAccuracy.get(smoothing), s));
      }
    }
    System.out.printf(Locale.ROOT, "Teacher %,d parameters, student %,d (%.1fx fewer).%n%n", teacherParams, studentParams,
        (double) teacherParams / studentParams);
    System.out.println("| teacher label smoothing | teacher test accuracy | student | student validation macro-F1 "
        + "| student test accuracy | − CE-only student, points (95 % CI) | | retention |");
    System.out.println("| ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |");
    for (double smoothing : smoothings) {
      double[] teacherAcc = teacherAccuracy.get(smoothing);
      System.out.printf(Locale.ROOT, "| %s | %s | cross-entropy only | %s | %s | reference | | %s |%n", fmt(smoothing),
          SeedStats.pm(teacherAcc), SeedStats.pm(ceValidation), SeedStats.pm(ce), retention(ce, teacherAcc));
      for (int i = 0; i < settings.size(); i++) {
        double[] acc = kdAccuracy.get(smoothing)[i];
        SeedStats.Difference d = SeedStats.paired(acc, ce);
        System.out.printf(Locale.ROOT, "| %s | | KD T=%s, α=%s | %s | %s | %s | %s | %s |%n", fmt(smoothing),
            fmt(settings.get(i)[0]), fmt(settings.get(i)[1]), SeedStats.pm(kdValidation.get(smoothing)[i]),
            SeedStats.pm(acc), d.points(), d.verdict(), retention(acc, teacherAcc));
      }
    }
    System.out.println();
  }

  private static String seedColumn(double[][] values, int seed) {
    StringBuilder b = new StringBuilder();
    for (double[] v : values) {
      b.append(String.format(Locale.ROOT, " %.4f", v[seed]));
    }
    return b.toString().trim();
  }

  /** The student's test accuracy as a share of its own teacher's, seed by seed, averaged. */
  private static String retention(double[] student, double[] teacher) {
    double sum = 0;
    for (int s = 0; s < student.length; s++) {
      sum += student[s] / teacher[s];
    }
    return String.format(Locale.ROOT, "%.1f %%", 100 * sum / student.length);
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }
}
