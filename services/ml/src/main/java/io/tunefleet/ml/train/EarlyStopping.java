package io.tunefleet.ml.train;

import io.tunefleet.proto.v1.Evaluation.Verdict;

/**
 * The rule that ends a phase, used by the evaluator and by {@link LocalRun}: the best epoch is the one with the
 * highest validation macro-F1, and of epochs with the same macro-F1 the one with the lower validation loss; the phase
 * stops early after {@code patience} evaluated epochs without a better one
 * (waiting, under plateau-driven unfreezing, until every stage is trainable) and completes after its planned epochs.
 */
public final class EarlyStopping {
  private final int patience;
  private final UnfreezeSchedule unfreeze;

  /**
   * Macro-F1 values closer than this are a tie. On a small validation split macro-F1 moves in coarse steps (about
   * 0.02 on 50 images) and ties are common: without the loss to break them, the first of several equal epochs —
   * often one trained halfway — stayed the best and patience ran out on it (RESULTS.md, the PyTorch twin's
   * diagnostic: 2 points of test accuracy lost against the last epoch).
   */
  static final double TIE = 1e-9;

  /** What the rule remembers between two epochs of a phase. */
  public record State(double bestMacroF1, double bestLoss, int epochsWithoutImprovement,
      UnfreezeSchedule.PlateauState plateau) {}

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
   * scored {@code macroF1} and mean validation loss {@code loss}; {@code last} is the state after the previous
   * epoch, null for the first.
   */
  public Decision judge(State last, int epoch, int epochsPlanned, int epochStage, double macroF1, double loss) {
    boolean improved = last == null || macroF1 > last.bestMacroF1() + TIE
        || (Math.abs(macroF1 - last.bestMacroF1()) <= TIE && loss < last.bestLoss());
    int stale = improved ? 0 : last.epochsWithoutImprovement() + 1;
    UnfreezeSchedule.PlateauState plateau = unfreeze == null ? null
        : unfreeze.afterEvaluation(last == null ? null : last.plateau(), epochStage, macroF1);
    boolean mayStop = plateau == null || unfreeze.mayStopEarly(plateau, patience);
    Verdict verdict = epoch + 1 >= epochsPlanned ? Verdict.COMPLETE
        : stale >= patience && mayStop ? Verdict.STOP_EARLY
        : Verdict.CONTINUE;
    return new Decision(improved, verdict, new State(improved ? macroF1 : last.bestMacroF1(),
        improved ? loss : last.bestLoss(), stale, plateau));
  }
}
