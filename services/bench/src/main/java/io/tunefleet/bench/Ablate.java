package io.tunefleet.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.cli.Fleet;
import io.tunefleet.common.config.FleetConfig;
import io.tunefleet.ml.data.DatasetLoader;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.model.ResNets;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.train.LocalRun;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.HeadSpec;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.proto.v1.UnfreezeSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * `fleet ablate`: the measurements behind RESULTS.md. Fine-tunes the demo's base model (pretrained by
 * the fleet on the even Fashion-MNIST classes) on a small subset of the odd classes with one recipe
 * item changed at a time, over several seeds, scoring on the odd classes of Fashion-MNIST's test split;
 * then a long-tailed variant, then distillation against training the same student from scratch.
 * Runs in-process (the recipe code the fleet runs, without Kafka) so that dozens of runs fit in minutes.
 */
@Command(name = "ablate", description = "Ablations of the recipe on Fashion-MNIST (the numbers in RESULTS.md), as Markdown.")
final class Ablate implements Callable<Integer> {
  private static final List<Integer> CLASSES = List.of(1, 3, 5, 7, 9);
  private static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot");

  @Option(names = "--seeds", description = "Seeds per configuration (default ${DEFAULT-VALUE})")
  int seeds = 3;

  @Option(names = "--per-class", description = "Training images per class (default ${DEFAULT-VALUE})")
  int perClass = 100;

  @Option(names = "--epochs", description = "Epochs per run (default ${DEFAULT-VALUE})")
  int epochs = 15;

  @Option(names = "--section", description = "recipe, longtail, distill or all (default ${DEFAULT-VALUE})")
  String section = "all";

  @Option(names = "--distill-per-class", description = "Training images per class of the distillation section "
      + "(default ${DEFAULT-VALUE}: the demo's data)")
  int distillPerClass = 800;

  @Option(names = "--teacher-epochs", description = "Distillation section: teacher fine-tuning epochs (default ${DEFAULT-VALUE})")
  int teacherEpochs = 8;

  @Option(names = "--student-epochs", description = "Distillation section: student epochs (default ${DEFAULT-VALUE})")
  int studentEpochs = 6;

  @Option(names = "--kd", split = ",", description = "Distillation section: the KD students to train against each "
      + "teacher, as T:alpha pairs (default ${DEFAULT-VALUE}: the fleet's defaults); every teacher also gets a "
      + "cross-entropy-only student")
  List<String> kd = List.of("3:0.7");

  @Option(names = "--teacher-label-smoothing", description = "Distillation section: the teacher's label smoothing "
      + "(default ${DEFAULT-VALUE}, the fleet's default for a job that distils)")
  double teacherLabelSmoothing = 0;

  @Option(names = "--rows", description = "Only the rows of the recipe and long-tail tables whose configuration "
      + "contains this text (default: all)")
  String onlyRows = "";

  private Path datasets;
  private PathPolicy paths;

  @Override
  public Integer call() throws Exception {
    FleetConfig config = Fleet.config();
    datasets = Path.of("datasets").toAbsolutePath();
    paths = new PathPolicy(config.dataRoots());
    ImageBatch test = ImageBatch.of(load("t10k", 0));
    System.out.printf(Locale.ROOT, "Validation: the %d test-split images of the odd classes; %d seeds per row; "
        + "mean ± standard deviation.%n%n", test.size(), seeds);
    try (NDManager m = NDManager.newBaseManager()) {
      Map<String, NDArray> base = ModelFile.decode(Files.readAllBytes(Fleet.BASE_MODEL), m).weights();
      if (section.equals("all") || section.equals("recipe")) {
        recipe(test, base);
      }
      if (section.equals("all") || section.equals("longtail")) {
        longTail(test, base);
      }
      if (section.equals("all") || section.equals("distill")) {
        distill(test, base);
      }
    }
    return 0;
  }

  private void recipe(ImageBatch test, Map<String, NDArray> base) throws Exception {
    LabeledImages train = load("train", perClass);
    System.out.printf(Locale.ROOT, "### Recipe ablation: %d training images (%d per class), %d epochs max, best epoch by "
        + "macro-F1%n%n", train.size(), perClass, epochs);
    Map<String, UnaryOperator<TrainingRequest.Builder>> rows = new LinkedHashMap<>();
    rows.put("from scratch (same architecture, random init)", b -> b.setBaseModel(BaseModel.newBuilder()
        .setArchitecture(baseArchitecture())).setRecipe(b.getRecipe().toBuilder().setLrBackbone(0.05)));
    rows.put("head only (backbone frozen)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(1000))));
    rows.put("full fine-tuning (all stages from the start)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(0))));
    rows.put("full fine-tuning, single learning rate 0.05", b -> b.setRecipe(b.getRecipe().toBuilder().setLrBackbone(0.05)
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(0))));
    rows.put("progressive unfreezing (1 stage / epoch; backbone lr 0.01, head 0.05)", b -> b);
    rows.put("progressive unfreezing on a macro-F1 plateau (patience 1)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(0).setPlateauPatience(1))));
    rows.put("progressive unfreezing on a macro-F1 plateau (patience 2)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(0).setPlateauPatience(2))));
    rows.put("progressive unfreezing (2 stages every 2 epochs)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(2).setStagesPerStep(2))));
    rows.put("progressive, no label smoothing", b -> b.setRecipe(b.getRecipe().toBuilder().setLabelSmoothing(0)));
    rows.put("progressive, single learning rate 0.05", b -> b.setRecipe(b.getRecipe().toBuilder().setLrBackbone(0.05)));
    rows.put("progressive, backbone lr 0.02, head 0.05", b -> b.setRecipe(b.getRecipe().toBuilder().setLrBackbone(0.02)));
    rows.put("progressive, backbone lr 1e-4 (the classic choice)", b -> b.setRecipe(b.getRecipe().toBuilder()
        .setLrBackbone(1e-4)));
    table(rows, train, test, base);
  }

  private void longTail(ImageBatch test, Map<String, NDArray> base) throws Exception {
    int[] counts = {200, 100, 50, 30, 20};
    LabeledImages all = load("train", 200);
    List<Integer> keep = new ArrayList<>();
    int[] taken = new int[5];
    for (int i = 0; i < all.size(); i++) {
      int c = all.labels()[i];
      if (taken[c] < counts[c]) {
        taken[c]++;
        keep.add(i);
      }
    }
    LabeledImages train = all.subset(keep.stream().mapToInt(Integer::intValue).toArray());
    System.out.printf(Locale.ROOT, "### Long-tailed training set: %s images per class (imbalance ratio %d), %d epochs max%n%n",
        java.util.Arrays.toString(counts), counts[0] / counts[4], epochs);
    Map<String, UnaryOperator<TrainingRequest.Builder>> rows = new LinkedHashMap<>();
    HeadSpec mlp = HeadSpec.newBuilder().setKind(HeadSpec.Kind.MLP).setHidden(128).setDropout(0.5f).build();
    rows.put("linear head, uniform sampling", b -> b);
    rows.put("linear head, class-balanced sampling", b -> b.setRecipe(b.getRecipe().toBuilder().setBalancedSampling(true)));
    rows.put("mlp head, uniform sampling", b -> b.setBaseModel(b.getBaseModel().toBuilder()
        .setArchitecture(Architecture.newBuilder().setHead(mlp))));
    rows.put("mlp head, class-balanced sampling", b -> b.setBaseModel(b.getBaseModel().toBuilder()
        .setArchitecture(Architecture.newBuilder().setHead(mlp))).setRecipe(b.getRecipe().toBuilder().setBalancedSampling(true)));
    table(rows, train, test, base);
  }

  private void distill(ImageBatch test, Map<String, NDArray> base) throws Exception {
    LabeledImages train = load("train", distillPerClass);
    System.out.printf(Locale.ROOT, "### Distillation: %d training images (%d per class), teacher fine-tuned %d epochs "
        + "(the fleet's default recipe, label smoothing %s), students %d epochs%n%n", train.size(), distillPerClass,
        teacherEpochs, fmt(teacherLabelSmoothing), studentEpochs);
    List<double[]> variants = kd.stream().map(v -> {
      String[] ta = v.split(":");
      return new double[] {Double.parseDouble(ta[0]), Double.parseDouble(ta[1])};
    }).toList();
    StringBuilder header = new StringBuilder("| seed | teacher acc | teacher params | student (CE only) acc |");
    StringBuilder rule = new StringBuilder("| ---: | ---: | ---: | ---: |");
    for (double[] v : variants) {
      header.append(String.format(Locale.ROOT, " student (KD, T=%s, α=%s) acc |", fmt(v[0]), fmt(v[1])));
      rule.append(" ---: |");
    }
    System.out.println(header + " student params | retention (first KD) |");
    System.out.println(rule + " ---: | ---: |");
    double[] ce = new double[seeds];
    double[][] kdAcc = new double[variants.size()][seeds];
    double[] ret = new double[seeds];
    for (int s = 0; s < seeds; s++) {
      // the teacher as the fleet trains it by default: every stage from the start at one learning rate
      TrainingRequest.Builder b = request(s);
      b.getRecipeBuilder().setEpochs(teacherEpochs).clearLrBackbone().clearUnfreeze().setLabelSmoothing(teacherLabelSmoothing);
      TrainingRequest r = resolve(b.setDistillation(Distillation.newBuilder().setEpochs(studentEpochs)).build());
      LocalRun.Result teacher = LocalRun.teacher(r, train, test, base);
      TrainingRequest ceOnly = r.toBuilder().setDistillation(r.getDistillation().toBuilder().setAlpha(0)).build();
      LocalRun.Result withCe = LocalRun.student(ceOnly, train, test, teacher.bestModel());
      ce[s] = withCe.accuracy();
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %d | %.4f | %,d | %.4f |", s, teacher.accuracy(),
          teacher.parameters(), withCe.accuracy()));
      for (int i = 0; i < variants.size(); i++) {
        TrainingRequest withKd = r.toBuilder().setDistillation(r.getDistillation().toBuilder()
            .setTemperature(variants.get(i)[0]).setAlpha(variants.get(i)[1])).build();
        kdAcc[i][s] = LocalRun.student(withKd, train, test, teacher.bestModel()).accuracy();
        row.append(String.format(Locale.ROOT, " %.4f |", kdAcc[i][s]));
      }
      ret[s] = kdAcc[0][s] / teacher.accuracy();
      System.out.printf(Locale.ROOT, "%s %,d | %.1f%% |%n", row, withCe.parameters(), 100 * ret[s]);
      System.err.printf(Locale.ROOT, "ablate: distill seed %d: %s%n", s, row);
    }
    StringBuilder mean = new StringBuilder("| mean | | | " + pm(ce) + " |");
    for (double[] acc : kdAcc) {
      mean.append(' ').append(pm(acc)).append(" |");
    }
    System.out.printf(Locale.ROOT, "%s | %s |%n%n", mean, pm(ret));
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private void table(Map<String, UnaryOperator<TrainingRequest.Builder>> configurations, LabeledImages train,
      ImageBatch test, Map<String, NDArray> base) throws Exception {
    System.out.println("| configuration | accuracy | macro-F1 | best epoch (mean) |");
    System.out.println("| --- | ---: | ---: | ---: |");
    for (Map.Entry<String, UnaryOperator<TrainingRequest.Builder>> row : configurations.entrySet()) {
      if (!row.getKey().contains(onlyRows)) {
        continue;
      }
      double[] acc = new double[seeds];
      double[] f1 = new double[seeds];
      double epochSum = 0;
      for (int s = 0; s < seeds; s++) {
        TrainingRequest r = resolve(row.getValue().apply(request(s)).build());
        boolean pretrained = !r.getBaseModel().getCheckpoint().isEmpty();
        LocalRun.Result result = LocalRun.teacher(r, train, test, pretrained ? base : null);
        acc[s] = result.accuracy();
        f1[s] = result.macroF1();
        epochSum += result.bestEpoch() + 1;
        System.err.printf(Locale.ROOT, "ablate: %s seed %d: accuracy %.4f macro-F1 %.4f%n", row.getKey(), s, acc[s], f1[s]);
      }
      System.out.printf(Locale.ROOT, "| %s | %s | %s | %.1f |%n", row.getKey(), pm(acc), pm(f1), epochSum / seeds);
    }
    System.out.println();
  }

  private TrainingRequest.Builder request(int seed) {
    return TrainingRequest.newBuilder().setJobId("ablate-" + seed).setNumClasses(5)
        .setDataset(DatasetSpec.newBuilder().setFormat("idx").setImages(datasets.resolve("fashion-mnist/train-images-idx3-ubyte.gz").toString())
            .setLabels(datasets.resolve("fashion-mnist/train-labels-idx1-ubyte.gz").toString()).addAllClasses(CLASSES))
        .setBaseModel(BaseModel.newBuilder().setCheckpoint(Fleet.BASE_MODEL.toAbsolutePath().toString()))
        .setRecipe(Recipe.newBuilder().setEpochs(epochs).setBatchSize(32).setSeed(seed).setEarlyStoppingPatience(5)
            // explicit, so that every row means the same whatever the defaults
            .setLrHead(0.05).setLrBackbone(0.01).setLabelSmoothing(0.1)
            .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(1).setStagesPerStep(1)))
        .setDistillation(Distillation.newBuilder().setEnabled(false));
  }

  private static Architecture baseArchitecture() {
    return Architecture.newBuilder().setFamily("resnet10").setBaseWidth(16).setStem("small").build();
  }

  private TrainingRequest resolve(TrainingRequest r) {
    return RequestResolver.resolve(r, paths);
  }

  private LabeledImages load(String split, int max) throws Exception {
    DatasetSpec spec = DatasetSpec.newBuilder().setFormat("idx")
        .setImages(datasets.resolve("fashion-mnist/" + split + "-images-idx3-ubyte.gz").toString())
        .setLabels(datasets.resolve("fashion-mnist/" + split + "-labels-idx1-ubyte.gz").toString())
        .addAllClasses(CLASSES).addAllClassNames(NAMES).setMaxPerClass(max).build();
    return DatasetLoader.load(spec, 5, paths).images();
  }

  private static String pm(double[] v) {
    double mean = java.util.Arrays.stream(v).average().orElse(0);
    double var = java.util.Arrays.stream(v).map(x -> (x - mean) * (x - mean)).sum() / Math.max(1, v.length - 1);
    return String.format(Locale.ROOT, "%.4f ± %.4f", mean, Math.sqrt(var));
  }
}
