package io.tunefleet.ml.train;

import io.tunefleet.proto.v1.Evaluation.Verdict;

/**
 * The rule that ends a phase, used by the evaluator and by {@link LocalRun}: the best epoch is the one with the
 * highest validation macro-F1; the phase stops early after {@code patience} evaluated epochs without a better one
 * (waiting, under plateau-driven unfreezing, until every stage is trainable) and completes after its planned epochs.
 */
public final class EarlyStopping {
  private final int patience;
  private final UnfreezeSchedule unfreeze;

  /** What the rule remembers between two epochs of a phase. */
  public record State(double bestMacroF1, int epochsWithoutImprovement, UnfreezeSchedule.PlateauState plateau) {}

  /** The verdict on one epoch and the state it leaves for the next. */
  public record Decision(boolean improved, Verdict verdict, State state) {}

  /**
   * @param unfreeze the phase's unfreeze schedule when its stages follow plateaus (its {@code plateauDriven()}), else
   *     null or a schedule that is not plateau-driven
   */
  public EarlyStopping(int patience, UnfreezeSchedule unfreeze) {
    this.patience = patience;
    this.unfreeze = unfreeze != null && unfreeze.plateauDriven() ? unfreeze : null;
  }

  /**
   * Judges epoch {@code epoch} (0-based) of {@code epochsPlanned}, trained at unfreeze stage {@code epochStage}, that
   * scored {@code macroF1}; {@code last} is the state after the previous epoch, null for the first.
   */
  public Decision judge(State last, int epoch, int epochsPlanned, int epochStage, double macroF1) {
    boolean improved = last == null || macroF1 > last.bestMacroF1();
    int stale = improved ? 0 : last.epochsWithoutImprovement() + 1;
    UnfreezeSchedule.PlateauState plateau = unfreeze == null ? null
        : unfreeze.afterEvaluation(last == null ? null : last.plateau(), epochStage, macroF1);
    boolean mayStop = plateau == null || unfreeze.mayStopEarly(plateau, patience);
    Verdict verdict = epoch + 1 >= epochsPlanned ? Verdict.COMPLETE
        : stale >= patience && mayStop ? Verdict.STOP_EARLY
        : Verdict.CONTINUE;
    return new Decision(improved, verdict, new State(improved ? macroF1 : last.bestMacroF1(), stale, plateau));
  }
}
