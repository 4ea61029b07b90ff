package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class UnfreezeScheduleTest {
  private static final List<String> STAGES = UnfreezeSchedule.DEFAULT_STAGES;

  @Test
  void epochBasedScheduleUnfreezesStagesEveryNEpochs() {
    UnfreezeSchedule s = new UnfreezeSchedule(STAGES, 2, 2);
    assertEquals(List.of(0, 0, 2, 2, 4, 4, 5, 5), java.util.stream.IntStream.range(0, 8).map(s::stageIndex).boxed().toList());
    assertEquals(Set.of("head", "layer4", "layer3"), s.trainableAt(s.stageIndex(2)));
    // stem, layer1 and layer2 stay frozen in epoch 3
    assertEquals(Set.of("head", "layer4", "layer3"), s.trainableAt(s.stageIndex(3)));
    assertEquals(5, UnfreezeSchedule.everythingTrainable().stageIndex(0));
  }

  /**
   * Replays the fleet's protocol on a macro-F1 curve: the verdict on epoch e decides the stage of epoch
   * e + lead; returns the stage each epoch trained at.
   */
  private static List<Integer> stagesFor(UnfreezeSchedule s, int lead, double... macroF1) {
    int[] stages = new int[macroF1.length];
    UnfreezeSchedule.PlateauState state = null;
    for (int e = 0; e < macroF1.length; e++) {
      state = s.afterEvaluation(state, stages[e], macroF1[e]);
      if (e + lead < stages.length) {
        stages[e + lead] = state.nextStage();
      }
    }
    List<Integer> out = new ArrayList<>();
    for (int stage : stages) {
      out.add(stage);
    }
    return out;
  }

  @Test
  void aPlateauUnfreezesTheNextStageOnlyOnceItsEpochsHaveBeenSeen() {
    UnfreezeSchedule s = new UnfreezeSchedule(STAGES, 0, 1, 2, 0);
    // without lag: two epochs without a gain at a stage advance it
    assertEquals(List.of(0, 0, 0, 0, 1, 1, 1, 2), stagesFor(s, 1, 0.5, 0.6, 0.6, 0.55, 0.7, 0.7, 0.69, 0.9));
    // with lead 2 the decision on epoch e lands on e + 2; the epoch between still trains at the old stage and
    // does not count towards the new stage's plateau, so one plateau never advances two stages
    assertEquals(List.of(0, 0, 0, 0, 0, 1, 1, 1), stagesFor(s, 2, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6));
    // a steadily improving run never unfreezes
    assertEquals(List.of(0, 0, 0, 0, 0, 0), stagesFor(s, 2, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6));
  }

  @Test
  void theMinimumDeltaIgnoresTinyGainsAndStagesPerStepAndTheLastStageBoundTheAdvance() {
    UnfreezeSchedule s = new UnfreezeSchedule(STAGES, 0, 2, 1, 0.01);
    // +0.005 is no gain at min delta 0.01: every epoch after the first is a plateau; 2 stages per step, capped at 5
    assertEquals(List.of(0, 0, 2, 4, 5, 5), stagesFor(s, 1, 0.5, 0.505, 0.509, 0.507, 0.6, 0.6));
    UnfreezeSchedule.PlateauState first = s.afterEvaluation(null, 0, 0.5);
    UnfreezeSchedule.PlateauState tiny = s.afterEvaluation(first, 0, 0.505);
    assertEquals(1, tiny.plateauEpochs());
    assertEquals(0.5, tiny.reference());
    UnfreezeSchedule.PlateauState gain = s.afterEvaluation(tiny, 2, 0.52);
    assertEquals(0, gain.plateauEpochs());
    assertEquals(0.52, gain.reference());
  }

  @Test
  void earlyStoppingWaitsUntilEveryStageHasTrainedForThePatience() {
    UnfreezeSchedule plateau = new UnfreezeSchedule(STAGES, 0, 1, 2, 0);
    assertFalse(plateau.mayStopEarly(new UnfreezeSchedule.PlateauState(4, 9, 9, 0.5, 5), 5));
    assertFalse(plateau.mayStopEarly(new UnfreezeSchedule.PlateauState(5, 4, 9, 0.5, 5), 5));
    assertTrue(plateau.mayStopEarly(new UnfreezeSchedule.PlateauState(5, 5, 5, 0.5, 5), 5));
    assertTrue(new UnfreezeSchedule(STAGES, 1, 1).mayStopEarly(null, 5));
  }

  @Test
  void epochsAndPlateausCannotBothDriveTheScheduleAndPlateauStagesComeFromEvaluations() {
    assertThrows(IllegalArgumentException.class, () -> new UnfreezeSchedule(STAGES, 2, 1, 2, 0));
    UnfreezeSchedule s = new UnfreezeSchedule(STAGES, 0, 1, 2, 0);
    assertEquals(0, s.stageIndex(0));
    assertThrows(IllegalStateException.class, () -> s.stageIndex(3));
    assertThrows(IllegalArgumentException.class, () -> s.trainableAt(6));
    assertThrows(IllegalStateException.class, () -> UnfreezeSchedule.everythingTrainable().afterEvaluation(null, 0, 0.5));
  }
}
