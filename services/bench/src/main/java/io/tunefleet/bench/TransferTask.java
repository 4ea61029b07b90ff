package io.tunefleet.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.tunefleet.cli.Fleet;
import io.tunefleet.ml.data.DatasetLoader;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.data.StratifiedSplit;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.ml.model.ModelFile;
import io.tunefleet.ml.recipe.PathPolicy;
import io.tunefleet.ml.recipe.RequestResolver;
import io.tunefleet.ml.train.Classifier;
import io.tunefleet.ml.train.LocalRun;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.BaseModel;
import io.tunefleet.proto.v1.DatasetSpec;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import io.tunefleet.proto.v1.UnfreezeSchedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The task behind RESULTS.md: transfer from the even Fashion-MNIST classes (the demo's base model) to the odd
 * ones. A run trains on a subset of the training file minus a validation split carved from it as the fleet carves
 * it ({@link StratifiedSplit}, seeded by the run's seed), picks its epoch on that split, and only then scores the
 * chosen model, once, on the odd classes of the test file: no test figure comes from the set that chose its epoch.
 */
final class TransferTask implements AutoCloseable {
  static final List<Integer> CLASSES = List.of(1, 3, 5, 7, 9);
  static final List<String> NAMES = List.of("Trouser", "Dress", "Sandal", "Sneaker", "Ankle boot");

  /** A run's figures: its epoch and validation macro-F1 chosen apart from the test, then the test once. */
  record Scored(LocalRun.Result run, double testAccuracy, double testMacroF1) {
    double validationMacroF1() {
      return run.macroF1();
    }

    int bestEpoch() {
      return run.bestEpoch() + 1;
    }
  }

  /** A training subset cut into the part that trains and the part that picks the epoch. */
  record Split(LabeledImages train, ImageBatch validation, StratifiedSplit positions) {}

  private final Path datasets = Path.of("datasets").toAbsolutePath();
  private final PathPolicy paths;
  private final NDManager manager = NDManager.newBaseManager();
  final ImageBatch test;
  final Map<String, NDArray> base;

  TransferTask() throws Exception {
    paths = new PathPolicy(Fleet.config().dataRoots());
    test = ImageBatch.of(load("t10k", 0));
    base = ModelFile.decode(Files.readAllBytes(Fleet.BASE_MODEL), manager).weights();
  }

  /** The first {@code perClass} images of each odd class of the training file. */
  LabeledImages train(int perClass) throws Exception {
    return load("train", perClass);
  }

  /**
   * The fleet's defaults, each set explicitly so that a row means the same whatever the defaults become: every
   * stage trainable from the start at one learning rate 0.05, label smoothing 0.1, batch 32, early stopping after
   * 5 epochs without a better validation macro-F1, 10 % of each class held out for validation.
   */
  TrainingRequest.Builder request(int seed, int epochs) {
    return TrainingRequest.newBuilder().setJobId("ablate-" + seed).setNumClasses(CLASSES.size())
        .setDataset(DatasetSpec.newBuilder().setFormat("idx")
            .setImages(datasets.resolve("fashion-mnist/train-images-idx3-ubyte.gz").toString())
            .setLabels(datasets.resolve("fashion-mnist/train-labels-idx1-ubyte.gz").toString())
            .addAllClasses(CLASSES).setValidationFraction(0.1))
        .setBaseModel(BaseModel.newBuilder().setCheckpoint(Fleet.BASE_MODEL.toAbsolutePath().toString()))
        .setRecipe(Recipe.newBuilder().setEpochs(epochs).setBatchSize(32).setSeed(seed).setEarlyStoppingPatience(5)
            .setLrHead(0.05).setLrBackbone(0.05).setLabelSmoothing(0.1)
            .setUnfreeze(UnfreezeSchedule.newBuilder().setEpochsPerStage(0).setStagesPerStep(1)
                .setFrozenBatchNorm("adapt")))
        .setDistillation(Distillation.newBuilder().setEnabled(false));
  }

  /** {@code r} trained from random weights: the base model's architecture (ResNet-10, width 16, 3x3 stem), no weights. */
  static TrainingRequest.Builder fromScratch(TrainingRequest.Builder r) {
    return r.setBaseModel(BaseModel.newBuilder().setArchitecture(
        Architecture.newBuilder().setFamily("resnet10").setBaseWidth(16).setStem("small")));
  }

  TrainingRequest resolve(TrainingRequest.Builder r) {
    return RequestResolver.resolve(r.build(), paths);
  }

  /** {@code data} split as the fleet splits a request's dataset: stratified, {@code validation_fraction}, seeded. */
  static Split split(LabeledImages data, TrainingRequest r) {
    StratifiedSplit s = StratifiedSplit.of(data.labels(), r.getNumClasses(), r.getDataset().getValidationFraction(),
        r.getRecipe().getSeed());
    return new Split(data.subset(s.train()), ImageBatch.of(data.subset(s.validation())), s);
  }

  /** The teacher phase of {@code r}, from the base model's weights unless the request names none. */
  Scored teacher(TrainingRequest r, LabeledImages data) throws IOException {
    Split s = split(data, r);
    boolean pretrained = !r.getBaseModel().getCheckpoint().isEmpty();
    return score(LocalRun.teacher(r, s.train(), s.validation(), pretrained ? base : null), data.height());
  }

  /** A student of {@code r} distilled from {@code teacherModel} on the same split. */
  Scored student(TrainingRequest r, LabeledImages data, byte[] teacherModel) throws IOException {
    Split s = split(data, r);
    return score(LocalRun.student(r, s.train(), s.validation(), teacherModel), data.height());
  }

  private Scored score(LocalRun.Result run, int imageSize) throws IOException {
    try (Classifier c = Classifier.load(run.bestModel(), imageSize, Device.cpu())) {
      ConfusionMatrix cm = c.evaluate(test);
      return new Scored(run, cm.accuracy(), cm.macroF1());
    }
  }

  private LabeledImages load(String split, int max) throws Exception {
    DatasetSpec spec = DatasetSpec.newBuilder().setFormat("idx")
        .setImages(datasets.resolve("fashion-mnist/" + split + "-images-idx3-ubyte.gz").toString())
        .setLabels(datasets.resolve("fashion-mnist/" + split + "-labels-idx1-ubyte.gz").toString())
        .addAllClasses(CLASSES).addAllClassNames(NAMES).setMaxPerClass(max).build();
    return DatasetLoader.load(spec, CLASSES.size(), paths).images();
  }

  @Override
  public void close() {
    manager.close();
  }
}
