package io.tunefleet.ml.train;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Progressive unfreezing: the head trains first, then the next {@code stagesPerStep} backbone stages (in
 * the given order, e.g. layer4, layer3, …) become trainable, either every {@code epochsPerStage} epochs or,
 * with {@code plateauPatience > 0}, when validation macro-F1 stops improving ({@link #afterEvaluation}).
 * With neither, everything trains from the start. A stage index counts the trainable backbone stages
 * (0 = head only, {@link #maxStage()} = everything). With {@code fixFrozenBatchNorm}, the BatchNorm layers of the
 * stages still frozen run in inference mode: their running statistics stay the base model's instead of following
 * the new data.
 */
public record UnfreezeSchedule(List<String> stages, int epochsPerStage, int stagesPerStep, int plateauPatience,
    double plateauMinDelta, boolean fixFrozenBatchNorm) {
  public static final List<String> DEFAULT_STAGES = List.of("layer4", "layer3", "layer2", "layer1", "stem");

  public UnfreezeSchedule {
    stages = List.copyOf(stages);
    if (epochsPerStage < 0 || stagesPerStep < 1 || plateauPatience < 0 || plateauMinDelta < 0) {
      throw new IllegalArgumentException("epochsPerStage, plateauPatience and plateauMinDelta must be >= 0 and stagesPerStep >= 1");
    }
    if (epochsPerStage > 0 && plateauPatience > 0) {
      throw new IllegalArgumentException("unfreezing is driven by epochs or by plateaus, not both");
    }
  }

  public UnfreezeSchedule(List<String> stages, int epochsPerStage, int stagesPerStep, int plateauPatience,
      double plateauMinDelta) {
    this(stages, epochsPerStage, stagesPerStep, plateauPatience, plateauMinDelta, false);
  }

  public UnfreezeSchedule(List<String> stages, int epochsPerStage, int stagesPerStep) {
    this(stages, epochsPerStage, stagesPerStep, 0, 0);
  }

  public static UnfreezeSchedule everythingTrainable() {
    return new UnfreezeSchedule(DEFAULT_STAGES, 0, 1);
  }

  /** Stages advance on validation plateaus: the stage of each epoch comes from the evaluations, not the epoch number. */
  public boolean plateauDriven() {
    return plateauPatience > 0;
  }

  /** The stage index with every listed stage trainable. */
  public int maxStage() {
    return stages.size();
  }

  /** The stage of {@code epoch} under the epoch-based schedule; plateau-driven schedules start at 0. */
  public int stageIndex(int epoch) {
    if (plateauDriven()) {
      if (epoch != 0) {
        throw new IllegalStateException("plateau-driven unfreezing: the stage of epoch " + epoch + " comes from the evaluations");
      }
      return 0;
    }
    if (epochsPerStage == 0) {
      return stages.size();
    }
    return Math.min(stages.size(), (epoch / epochsPerStage) * stagesPerStep);
  }

  /** Names of the stages trainable at {@code stageIndex}: always "head", then the unfrozen backbone stages. */
  public Set<String> trainableAt(int stageIndex) {
    if (stageIndex < 0 || stageIndex > maxStage()) {
      throw new IllegalArgumentException("stage index " + stageIndex + " outside 0.." + maxStage());
    }
    Set<String> names = new LinkedHashSet<>();
    names.add("head");
    names.addAll(stages.subList(0, stageIndex));
    return names;
  }

  /**
   * Plateau-driven unfreezing as the evaluator records it after each epoch.
   *
   * @param epochStage the stage the evaluated epoch trained at
   * @param epochsAtStage evaluated epochs in a row (this one included) that trained at {@code epochStage}
   * @param plateauEpochs evaluated epochs since macro-F1 last beat {@code reference} by more than the minimum delta
   * @param reference the macro-F1 of that last significant improvement
   * @param nextStage the stage decided for the epoch {@code lead_epochs} after this one
   */
  public record PlateauState(int epochStage, int epochsAtStage, int plateauEpochs, double reference, int nextStage) {}

  /**
   * The plateau state after an epoch that trained at {@code epochStage} scored {@code macroF1}, given the
   * state after the epoch before ({@code null} for the first). Decisions lag: the verdict on epoch e decides
   * epoch e + lead, so the stage advances only once the epochs at the latest decided stage have been seen
   * to plateau ({@code plateauPatience} of them, none beating the reference) — never twice on one plateau.
   */
  public PlateauState afterEvaluation(PlateauState previous, int epochStage, double macroF1) {
    if (!plateauDriven()) {
      throw new IllegalStateException("not a plateau-driven schedule");
    }
    int decided = previous == null ? 0 : previous.nextStage();
    int atStage = previous != null && previous.epochStage() == epochStage ? previous.epochsAtStage() + 1 : 1;
    boolean gain = previous == null || macroF1 > previous.reference() + plateauMinDelta;
    int plateau = gain ? 0 : previous.plateauEpochs() + 1;
    double reference = gain ? macroF1 : previous.reference();
    int next = decided;
    if (epochStage == decided && atStage >= plateauPatience && plateau >= plateauPatience) {
      next = Math.min(maxStage(), decided + stagesPerStep);
    }
    return new PlateauState(epochStage, atStage, plateau, reference, next);
  }

  /**
   * Whether early stopping may end the phase after an epoch: always under an epoch-based schedule; when
   * plateaus drive unfreezing, only after {@code patience} epochs with every stage trainable, so a plateau
   * unfreezes the next stage instead of ending the job.
   */
  public boolean mayStopEarly(PlateauState state, int patience) {
    return !plateauDriven() || (state.epochStage() >= maxStage() && state.epochsAtStage() >= patience);
  }
}
