package io.tunefleet.ml.recipe;

import io.tunefleet.ml.train.DistillationLoss;
import io.tunefleet.ml.train.LabelSmoothingLoss;
import io.tunefleet.ml.train.LearningRateSchedule;
import io.tunefleet.ml.train.TrainingSession;
import io.tunefleet.ml.train.UnfreezeSchedule;
import io.tunefleet.proto.v1.Distillation;
import io.tunefleet.proto.v1.Phase;
import io.tunefleet.proto.v1.Recipe;
import io.tunefleet.proto.v1.TrainingRequest;
import java.util.LinkedHashMap;
import java.util.Map;

/** The training-session recipes of a resolved request: the teacher's and the student's. */
public final class SessionConfigs {
  /** Keeps the distillation phase's data streams apart from the teacher's (any fixed odd number would do). */
  private static final long DISTILL_DATA_SEED_OFFSET = 1_000_003L;

  private SessionConfigs() {}

  /** The seed of a phase's sampling and augmentation streams: the same in the augmenter and in {@code LocalRun}. */
  public static long dataSeed(TrainingRequest r, Phase phase) {
    return r.getRecipe().getSeed() + (phase == Phase.DISTILL ? DISTILL_DATA_SEED_OFFSET : 0);
  }

  /** The seed of a phase's network initialisation: the student's differs from the teacher's. */
  public static long modelSeed(TrainingRequest r, Phase phase) {
    return r.getRecipe().getSeed() + (phase == Phase.DISTILL ? 1 : 0);
  }

  public static TrainingSession.Config teacher(TrainingRequest r) {
    Recipe rc = r.getRecipe();
    Map<String, Float> stageLr = new LinkedHashMap<>();
    rc.getLrStagesMap().forEach((stage, lr) -> stageLr.put(stage, lr.floatValue()));
    return new TrainingSession.Config((float) rc.getLrHead(), (float) rc.getLrBackbone(), stageLr,
        (float) rc.getMomentum(), (float) rc.getWeightDecay(), new LabelSmoothingLoss((float) rc.getLabelSmoothing()),
        unfreeze(r), schedule(rc, rc.getEpochs()));
  }

  /** The teacher's unfreezing schedule (of a resolved request). */
  public static UnfreezeSchedule unfreeze(TrainingRequest r) {
    var u = r.getRecipe().getUnfreeze();
    return new UnfreezeSchedule(u.getStagesList(), u.getEpochsPerStage(), u.getStagesPerStep(), u.getPlateauPatience(),
        u.getPlateauMinDelta(), u.getFrozenBatchNorm().equals("fixed"));
  }

  /** The student trains everything from the start, at the distillation learning rate, with the KD loss. */
  public static TrainingSession.Config student(TrainingRequest r) {
    Recipe rc = r.getRecipe();
    Distillation d = r.getDistillation();
    return new TrainingSession.Config((float) d.getLr(), (float) d.getLr(), Map.of(), (float) rc.getMomentum(),
        (float) rc.getWeightDecay(), new DistillationLoss((float) d.getTemperature(), (float) d.getAlpha()),
        UnfreezeSchedule.everythingTrainable(), schedule(rc, d.getEpochs()));
  }

  private static LearningRateSchedule schedule(Recipe rc, int epochs) {
    return new LearningRateSchedule(LearningRateSchedule.Kind.parse(rc.getLrSchedule()), epochs, rc.getWarmupEpochs(),
        rc.getLrStepEpochs(), rc.getLrStepGamma());
  }
}
