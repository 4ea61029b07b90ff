package io.tunefleet.bench;

import io.tunefleet.cli.Fleet;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.data.Normalization;
import io.tunefleet.ml.data.StratifiedSplit;
import io.tunefleet.ml.export.SafetensorsExport;
import io.tunefleet.proto.v1.AugmentOp;
import io.tunefleet.proto.v1.TrainingRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `fleet parity`: accuracy parity with plain PyTorch. Trains `fleet ablate`'s from-scratch row, and its reference
 * row (fine-tuning the demo's base model, whose weights cross to the twin as safetensors), with the fleet's code and
 * with its PyTorch twin (`bench/pytorch_twin.py` on Debian's python3-torch: the same architecture in
 * torchvision's layout, the same images, the same validation split per seed, the same recipe and selection rule),
 * then prints both, their means and the difference. The twin runs twice: with PyTorch's own generators for the
 * initialisation, sampling order and flips (an independent replication: Welch's 95 % interval), and with
 * {@code --fleet-streams}, drawing them exactly as the fleet does for each seed, so that the two runs of a seed differ
 * only in arithmetic (a paired interval).
 */
@Command(name = "parity", description = "The from-scratch and fine-tuning rows of `fleet ablate` trained by the fleet and by its "
    + "plain-PyTorch twin (bench/pytorch_twin.py) on the same images and splits: both means and their difference.")
final class Parity implements Callable<Integer> {
  /** The goal of issue #26: the fleet within this many points of PyTorch. */
  static final double GOAL_POINTS = 1.0;

  @Option(names = "--seeds", description = "Seeds per side (default ${DEFAULT-VALUE})")
  int seeds = 5;

  @Option(names = "--per-class", description = "Training images per class before the validation split (default ${DEFAULT-VALUE})")
  int perClass = 100;

  @Option(names = "--epochs", description = "Epochs per run (default ${DEFAULT-VALUE})")
  int epochs = 15;

  @Option(names = "--python", description = "Python with torch (default ${DEFAULT-VALUE}: Debian's python3-torch)")
  String python = "/usr/bin/python3";

  @Option(names = "--threads", description = "Torch threads of each side (default: the processors this JVM sees)")
  int threads = Runtime.getRuntime().availableProcessors();

  @Option(names = "--rows", description = "scratch, finetune or both (default ${DEFAULT-VALUE})")
  String rows = "both";

  @Option(names = "--streams", description = "The twin's random streams: torch (its own generators), fleet (the "
      + "fleet's draws, paired seed by seed) or both (default ${DEFAULT-VALUE})")
  String streams = "both";

  /** One run of one side. */
  record Run(int seed, int bestEpoch, double validationMacroF1, double testAccuracy, double testMacroF1, double seconds) {}

  @Override
  public Integer call() throws Exception {
    if (seeds < 2) {
      throw new IllegalArgumentException("--seeds must be at least 2 (the interval needs a spread), was " + seeds);
    }
    if (!List.of("scratch", "finetune", "both").contains(rows)) {
      throw new IllegalArgumentException("--rows must be scratch, finetune or both, was '" + rows + "'");
    }
    if (!List.of("torch", "fleet", "both").contains(streams)) {
      throw new IllegalArgumentException("--streams must be torch, fleet or both, was '" + streams + "'");
    }
    if (!Files.isExecutable(Path.of(python))) {
      throw new IllegalStateException("--python " + python + " is not an executable; install python3-torch "
          + "(Debian) or name a Python with torch");
    }
    System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
    try (TransferTask task = new TransferTask()) {
      LabeledImages data = task.train(perClass);
      Path dir = Files.createTempDirectory("fleet-parity");
      System.err.printf(Locale.ROOT, "parity: twin input in %s%n", dir);
      // the base model as the twin reads it: torchvision names, BatchNorm running statistics included
      Path base = dir.resolve("base.safetensors");
      Files.write(base, SafetensorsExport.export(task.base, 0, java.util.Map.of("source", Fleet.BASE_MODEL.toString())));
      System.out.printf(Locale.ROOT, "%d images per class (the fleet's validation split of each seed held out), "
          + "%d epochs max, %d seeds per side, %d torch threads each.%n%n", perClass, epochs, seeds, threads);
      boolean inputWritten = false;
      for (String row : rows.equals("both") ? List.of("scratch", "finetune") : List.of(rows)) {
        boolean finetune = row.equals("finetune");
        List<TrainingRequest> requests = new ArrayList<>();
        for (int s = 0; s < seeds; s++) {
          TrainingRequest.Builder b = task.request(s, epochs);
          requests.add(task.resolve(finetune ? b : TransferTask.fromScratch(b)));
        }
        if (!inputWritten) {
          writeTwinInput(dir, data, task.test, requests);
          inputWritten = true;
        }
        List<Run> fleet = new ArrayList<>();
        for (TrainingRequest r : requests) {
          long start = System.nanoTime();
          TransferTask.Scored scored = task.teacher(r, data);
          Run run = new Run((int) r.getRecipe().getSeed(), scored.bestEpoch(), scored.validationMacroF1(),
              scored.testAccuracy(), scored.testMacroF1(), (System.nanoTime() - start) / 1e9);
          fleet.add(run);
          System.err.printf(Locale.ROOT, "parity: fleet %s %s%n", row, run);
        }
        System.out.printf(Locale.ROOT, "### %s%n%n", finetune
            ? "Fine-tuning the demo's base model (every stage from epoch 1, one learning rate 0.05; the twin loads "
                + "the base weights from safetensors)"
            : "From scratch (ResNet-10, width 16, 3x3 stem, random init)");
        for (boolean fleetStreams : streams.equals("both") ? List.of(false, true) : List.of(streams.equals("fleet"))) {
          List<Run> torch = twin(dir, fleetStreams, finetune ? base : null);
          if (torch.size() != seeds) {
            throw new IllegalStateException("the twin reported " + torch.size() + " runs, expected " + seeds);
          }
          print(fleet, torch, fleetStreams);
        }
      }
      deleteTree(dir);
    }
    return 0;
  }

  /**
   * The twin's input: raw uint8 images and labels of the training subset and the test images, and meta.json with
   * the recipe and, per seed, the fleet's own validation split of the subset ({@link StratifiedSplit}).
   */
  private static void writeTwinInput(Path dir, LabeledImages train, ImageBatch test, List<TrainingRequest> requests)
      throws Exception {
    ImageBatch trainBatch = ImageBatch.of(train);
    Files.write(dir.resolve("train-images.u8"), gray(trainBatch));
    Files.write(dir.resolve("train-labels.u8"), bytes(trainBatch.labels()));
    Files.write(dir.resolve("test-images.u8"), gray(test));
    Files.write(dir.resolve("test-labels.u8"), bytes(test.labels()));
    TrainingRequest first = requests.get(0);
    var rc = first.getRecipe();
    Normalization normalization = Normalization.fromId(rc.getNormalization());
    JsonObject splits = new JsonObject();
    for (TrainingRequest r : requests) {
      StratifiedSplit s = TransferTask.split(train, r).positions();
      splits.put(Long.toString(r.getRecipe().getSeed()), new JsonObject()
          .put("train", new JsonArray(java.util.Arrays.stream(s.train()).boxed().toList()))
          .put("validation", new JsonArray(java.util.Arrays.stream(s.validation()).boxed().toList())));
    }
    JsonObject meta = new JsonObject()
        .put("height", trainBatch.height()).put("width", trainBatch.width()).put("input_channels", trainBatch.channels())
        .put("num_classes", first.getNumClasses())
        .put("epochs", rc.getEpochs()).put("batch_size", rc.getBatchSize())
        .put("lr", rc.getLrHead()).put("momentum", rc.getMomentum()).put("weight_decay", rc.getWeightDecay())
        .put("label_smoothing", rc.getLabelSmoothing()).put("patience", rc.getEarlyStoppingPatience())
        .put("flip_probability", flipProbability(rc.getAugmentationsList()))
        .put("normalization", new JsonObject()
            .put("mean", new JsonArray(floats(normalization.mean()))).put("std", new JsonArray(floats(normalization.std()))))
        .put("splits", splits);
    if (rc.getLrBackbone() != rc.getLrHead()) {
      throw new IllegalStateException("the twin trains at one learning rate; the scratch row has lrBackbone "
          + rc.getLrBackbone() + " != lrHead " + rc.getLrHead());
    }
    Files.writeString(dir.resolve("meta.json"), meta.encodePrettily());
  }

  /** The twin knows one augmentation, the recipe's default horizontal flip; anything else would not be a twin. */
  private static double flipProbability(List<AugmentOp> ops) {
    if (ops.size() != 1 || !ops.get(0).getOp().equals("horizontal_flip")) {
      throw new IllegalStateException("the twin applies only a horizontal flip; the scratch row's augmentations are " + ops);
    }
    return ops.get(0).getP();
  }

  private List<Run> twin(Path dir, boolean fleetStreams, Path base) throws Exception {
    List<String> seedList = new ArrayList<>();
    for (int s = 0; s < seeds; s++) {
      seedList.add(Integer.toString(s));
    }
    List<String> command = new ArrayList<>(List.of(python, Path.of("bench/pytorch_twin.py").toString(), dir.toString(),
        "--seeds", String.join(",", seedList), "--threads", Integer.toString(threads)));
    if (fleetStreams) {
      command.add("--fleet-streams");
    }
    if (base != null) {
      command.addAll(List.of("--base", base.toString()));
    }
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    List<Run> runs = new ArrayList<>();
    try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = out.readLine()) != null; ) {
        if (!line.startsWith("{")) {
          continue;
        }
        JsonObject o = new JsonObject(line);
        // the twin counts epochs from 0 as LocalRun.Result does; the tables count from 1
        Run run = new Run(o.getInteger("seed"), o.getInteger("best_epoch") + 1, o.getDouble("validation_macro_f1"),
            o.getDouble("test_accuracy"), o.getDouble("test_macro_f1"), o.getDouble("seconds"));
        runs.add(run);
        System.err.printf(Locale.ROOT, "parity: pytorch %s%n", run);
      }
    }
    int exit = p.waitFor();
    if (exit != 0) {
      throw new IllegalStateException(String.join(" ", command) + " exited with " + exit);
    }
    return runs;
  }

  private void print(List<Run> fleet, List<Run> torch, boolean fleetStreams) {
    System.out.printf(Locale.ROOT, "#### Against the twin with %s%n%n", fleetStreams
        ? "the fleet's random streams (--fleet-streams): the same initial weights, order and flips per seed"
        : "PyTorch's own random streams: an independent replication");
    System.out.println("| seed | fleet: best epoch | fleet: validation macro-F1 | fleet: test accuracy | fleet: s "
        + "| PyTorch: best epoch | PyTorch: validation macro-F1 | PyTorch: test accuracy | PyTorch: s |");
    System.out.println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (int i = 0; i < seeds; i++) {
      Run f = fleet.get(i);
      Run t = torch.get(i);
      System.out.printf(Locale.ROOT, "| %d | %d | %.4f | %.4f | %.1f | %d | %.4f | %.4f | %.1f |%n", f.seed(), f.bestEpoch(),
          f.validationMacroF1(), f.testAccuracy(), f.seconds(), t.bestEpoch(), t.validationMacroF1(), t.testAccuracy(),
          t.seconds());
    }
    double[] fa = fleet.stream().mapToDouble(Run::testAccuracy).toArray();
    double[] ta = torch.stream().mapToDouble(Run::testAccuracy).toArray();
    double[] ff = fleet.stream().mapToDouble(Run::testMacroF1).toArray();
    double[] tf = torch.stream().mapToDouble(Run::testMacroF1).toArray();
    SeedStats.Difference accuracy = fleetStreams ? SeedStats.paired(fa, ta) : SeedStats.welch(fa, ta);
    SeedStats.Difference f1 = fleetStreams ? SeedStats.paired(ff, tf) : SeedStats.welch(ff, tf);
    System.out.printf(Locale.ROOT, "%n| | fleet | PyTorch | fleet − PyTorch, points (95 %% CI, %s) |%n| --- | ---: | ---: | ---: |%n",
        fleetStreams ? "paired" : "Welch");
    System.out.printf(Locale.ROOT, "| test accuracy | %s | %s | %s |%n", SeedStats.pm(fa), SeedStats.pm(ta), accuracy.points());
    System.out.printf(Locale.ROOT, "| test macro-F1 | %s | %s | %s |%n%n", SeedStats.pm(ff), SeedStats.pm(tf), f1.points());
    boolean within = Math.abs(100 * accuracy.mean()) <= GOAL_POINTS;
    System.out.printf(Locale.ROOT, "Mean test accuracy: fleet %.4f, PyTorch %.4f, difference %+.2f points: %s the "
        + "%.0f-point goal; %s.%n", SeedStats.mean(fa), SeedStats.mean(ta), 100 * accuracy.mean(),
        within ? "within" : "OUTSIDE", GOAL_POINTS, accuracy.verdict().equals("no measurable difference")
            ? "no measurable difference at 95 %" : "the fleet is measurably " + accuracy.verdict());
    System.out.println();
  }

  /**
   * The twin's images are one byte per pixel: the fleet reads Fashion-MNIST's gray pixels into three equal channels
   * (interleaved), the twin repeats them into {@code input_channels} the same way.
   */
  private static byte[] gray(ImageBatch batch) {
    int c = batch.channels();
    byte[] px = batch.pixels();
    byte[] out = new byte[px.length / c];
    for (int i = 0; i < out.length; i++) {
      out[i] = px[i * c];
      for (int k = 1; k < c; k++) {
        if (px[i * c + k] != out[i]) {
          throw new IllegalStateException("the twin takes gray images; pixel " + i + " has unequal channels");
        }
      }
    }
    return out;
  }

  private static byte[] bytes(int[] labels) {
    byte[] b = new byte[labels.length];
    for (int i = 0; i < labels.length; i++) {
      b[i] = (byte) labels[i];
    }
    return b;
  }

  private static List<Double> floats(float[] v) {
    List<Double> out = new ArrayList<>();
    for (float x : v) {
      out.add((double) x);
    }
    return out;
  }

  private static void deleteTree(Path dir) throws Exception {
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
