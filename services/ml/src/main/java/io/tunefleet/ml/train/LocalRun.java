package io.tunefleet.ml.train;

import ai.djl.Device;
import io.tunefleet.ml.augment.Augmentation;
import io.tunefleet.ml.augment.AugmentationPipeline;
import io.tunefleet.ml.data.EpochBatches;
import io.tunefleet.ml.data.EpochSampler;
import io.tunefleet.ml.data.ImageBatch;
import io.tunefleet.ml.data.LabeledImages;
import io.tunefleet.ml.metrics.ConfusionMatrix;
import io.tunefleet.proto.v1.Architecture;
import io.tunefleet.proto.v1.Evaluation;
import io.tunefleet.proto.v1.ModelManifest;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.ml.recipe.SessionConfigs;
import io.tunefleet.proto.v1.TrainingRequest;
import java.io.IOException;

/**
 * A resolved request's training, run in one process without Kafka or a blob store — the same sampling,
 * augmentation, session, evaluation and early-stopping rules as the fleet — for experiments (ablations,
 * benchmarks) that need many short runs. The fleet itself is the production path.
 */
public final class LocalRun {
  /** The best epoch of a run (by validation macro-F1, as the evaluator picks it) and its model file. */
  public record Result(int bestEpoch, double accuracy, double macroF1, int epochsRun, long parameters, byte[] bestModel) {}

  private LocalRun() {}

  /** Trains the teacher phase of {@code r} on {@code train}, scoring every epoch on {@code validation}. */
  public static Result teacher(TrainingRequest r, LabeledImages train, ImageBatch validation,
      java.util.Map<String, ai.djl.ndarray.NDArray> baseWeights) throws IOException {
    try (TrainingSession s = TrainingSession.create(r.getBaseModel().getArchitecture(), train.height(),
        io.tunefleet.ml.data.Normalization.fromId(r.getRecipe().getNormalization()),
        SessionConfigs.teacher(r), Device.cpu(), SessionConfigs.modelSeed(r, Phase.TRAIN))) {
      if (baseWeights != null) {
        s.initBackboneFrom(baseWeights);
      }
      return run(s, r, train, validation, r.getRecipe().getEpochs(), null, Phase.TRAIN);
    }
  }

  /** Trains the student of {@code r} against {@code teacherModel} (a model file) with the distillation loss. */
  public static Result student(TrainingRequest r, LabeledImages train, ImageBatch validation, byte[] teacherModel)
      throws IOException {
    Architecture student = r.getDistillation().getStudent();
    try (TrainingSession s = TrainingSession.create(student, train.height(),
        io.tunefleet.ml.data.Normalization.fromId(r.getRecipe().getNormalization()), SessionConfigs.student(r),
        Device.cpu(), SessionConfigs.modelSeed(r, Phase.DISTILL)); Classifier teacher = Classifier.load(teacherModel, train.height(), Device.cpu())) {
      return run(s, r, train, validation, r.getDistillation().getEpochs(), teacher, Phase.DISTILL);
    }
  }

  private static Result run(TrainingSession s, TrainingRequest r, LabeledImages train, ImageBatch validation, int epochs,
      Classifier teacher, Phase phase) throws IOException {
    var rc = r.getRecipe();
    UnfreezeSchedule unfreeze = s.unfreezeSchedule();
    long seed = SessionConfigs.dataSeed(r, phase);
    Augmentation aug = AugmentationPipeline.fromSpec(rc.getAugmentationsList());
    Result best = null;
    EarlyStopping rule = new EarlyStopping(rc.getEarlyStoppingPatience(), unfreeze);
    EarlyStopping.State state = null;
    // plateau-driven unfreezing as in the fleet: the verdict on epoch e decides the stage of epoch e + lead
    int[] stages = new int[epochs];
    int e = 0;
    for (; e < epochs; e++) {
      if (unfreeze.plateauDriven()) {
        s.beginEpoch(e, stages[e]);
      } else {
        s.beginEpoch(e);
      }
      int[] order = EpochSampler.order(train.labels(), r.getNumClasses(), e, seed, rc.getBalancedSampling());
      for (int i = 0; i < EpochBatches.steps(order.length, rc.getBatchSize()); i++) {
        ImageBatch batch = EpochBatches.build(train, order, i, rc.getBatchSize(), aug, seed, r.getJobId(), e);
        if (teacher == null) {
          s.step(batch);
        } else {
          s.step(batch, scope -> teacher.logits(scope, batch), false);
        }
      }
      byte[] model = s.save(ModelManifest.newBuilder().setEpoch(e).build(), false);
      ConfusionMatrix cm;
      try (Classifier c = Classifier.load(model, train.height(), Device.cpu())) {
        cm = c.evaluate(validation);
      }
      EarlyStopping.Decision d = rule.judge(state, e, epochs, stages[e], cm.macroF1(), cm.meanLoss());
      state = d.state();
      if (state.plateau() != null && e + rc.getLeadEpochs() < epochs) {
        stages[e + rc.getLeadEpochs()] = state.plateau().nextStage();
      }
      if (d.improved()) {
        best = new Result(e, cm.accuracy(), cm.macroF1(), 0, s.parameterCount(), model);
      }
      if (d.verdict() == Evaluation.Verdict.STOP_EARLY) {
        e++;
        break;
      }
    }
    return new Result(best.bestEpoch(), best.accuracy(), best.macroF1(), e, best.parameters(), best.bestModel());
  }
}
