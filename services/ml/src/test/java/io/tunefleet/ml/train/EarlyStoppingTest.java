package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tunefleet.proto.v1.Evaluation.Verdict;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EarlyStoppingTest {

  /** The verdicts of a phase whose epochs score {@code f1}, judged one after the other. */
  private static List<Verdict> verdicts(EarlyStopping rule, int planned, double... f1) {
    List<Verdict> out = new ArrayList<>();
    EarlyStopping.State state = null;
    for (int e = 0; e < f1.length; e++) {
      EarlyStopping.Decision d = rule.judge(state, e, planned, 0, f1[e], 1.0);
      state = d.state();
      out.add(d.verdict());
    }
    return out;
  }

  @Test
  void stopsAfterPatienceEpochsWithoutABetterMacroF1() {
    List<Verdict> v = verdicts(new EarlyStopping(2, null), 10, 0.5, 0.6, 0.6, 0.59);
    assertEquals(List.of(Verdict.CONTINUE, Verdict.CONTINUE, Verdict.CONTINUE, Verdict.STOP_EARLY), v);
  }

  @Test
  void aBetterEpochResetsTheCount() {
    EarlyStopping rule = new EarlyStopping(2, null);
    EarlyStopping.Decision a = rule.judge(null, 0, 10, 0, 0.5, 1.0);
    EarlyStopping.Decision b = rule.judge(a.state(), 1, 10, 0, 0.4, 1.0);
    EarlyStopping.Decision c = rule.judge(b.state(), 2, 10, 0, 0.7, 1.0);
    assertTrue(a.improved());
    assertFalse(b.improved());
    assertEquals(1, b.state().epochsWithoutImprovement());
    assertTrue(c.improved());
    assertEquals(0, c.state().epochsWithoutImprovement());
    assertEquals(0.7, c.state().bestMacroF1());
  }

  @Test
  void ofEpochsWithTheSameMacroF1TheLowerValidationLossIsBetter() {
    EarlyStopping rule = new EarlyStopping(2, null);
    EarlyStopping.Decision a = rule.judge(null, 0, 10, 0, 0.96, 0.40);
    EarlyStopping.Decision b = rule.judge(a.state(), 1, 10, 0, 0.96, 0.30);
    EarlyStopping.Decision c = rule.judge(b.state(), 2, 10, 0, 0.96, 0.35);
    EarlyStopping.Decision d = rule.judge(c.state(), 3, 10, 0, 0.94, 0.10);
    assertTrue(b.improved(), "a tie in macro-F1 at a lower loss is the better epoch");
    assertEquals(0.30, b.state().bestLoss());
    assertFalse(c.improved(), "a tie at a higher loss is not");
    assertFalse(d.improved(), "a lower loss never outweighs a lower macro-F1");
    assertEquals(Verdict.STOP_EARLY, d.verdict());
  }

  @Test
  void completesAtThePlannedEpochsEvenWhenImproving() {
    assertEquals(List.of(Verdict.CONTINUE, Verdict.COMPLETE), verdicts(new EarlyStopping(5, null), 2, 0.5, 0.9));
  }

  @Test
  void waitsForEveryStageToBeTrainableUnderPlateauUnfreezing() {
    // two stages to unfreeze, a plateau of one epoch moves one stage: nothing stops while stages are frozen
    UnfreezeSchedule plateau = new UnfreezeSchedule(List.of("layer4", "layer3"), 0, 1, 1, 0.0);
    EarlyStopping rule = new EarlyStopping(1, plateau);
    EarlyStopping.State state = rule.judge(null, 0, 20, 0, 0.5, 1.0).state();
    EarlyStopping.Decision flat = rule.judge(state, 1, 20, 0, 0.5, 1.0);
    assertEquals(Verdict.CONTINUE, flat.verdict(), "stages are still frozen: early stopping waits");
    assertEquals(1, flat.state().epochsWithoutImprovement());
    assertEquals(1, flat.state().plateau().nextStage(), "the plateau unfreezes the next stage");
  }
}
