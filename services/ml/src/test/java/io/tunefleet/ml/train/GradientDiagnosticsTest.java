package io.tunefleet.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class GradientDiagnosticsTest {
  static {
    System.setProperty("ai.djl.offline", "true");
  }

  @Test
  void reportsOnlyTrainableStagesAndZeroHeadBackboneRatioWhenTheBackboneIsFrozen() {
    UnfreezeSchedule schedule = new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 1, 1);
    try (TrainingSession s = TrainingSession.create(TrainingSessionTest.TINY, 8,
        TrainingSessionTest.config(schedule), Device.cpu())) {
      s.beginEpoch(0);
      GradientReport head = s.step(TrainingSessionTest.batch(1), null, true).gradients();
      assertEquals(Set.of("head"), head.meanAbsByStage().keySet());
      assertEquals(0, head.headBackboneRatio());
      s.beginEpoch(2);
      GradientReport more = s.step(TrainingSessionTest.batch(2), null, true).gradients();
      assertEquals(Set.of("head", "layer4", "layer3"), more.meanAbsByStage().keySet());
      double backbone = (more.meanAbsByStage().get("layer4") + more.meanAbsByStage().get("layer3")) / 2;
      assertEquals(more.meanAbsByStage().get("head") / backbone, more.headBackboneRatio(), 1e-9);
      assertEquals(4, more.residualRatio().size()); // one unit per stage in a ResNet-10
    }
  }

  @Test
  void aBlockWhoseOutputIgnoresItsInputHasAVanishingResidualRatioAndIsFlagged() {
    // layer3 stays frozen (epoch 1: head + layer4), so the zeroed weights below stay zero through the step
    UnfreezeSchedule schedule = new UnfreezeSchedule(UnfreezeSchedule.DEFAULT_STAGES, 1, 1);
    try (TrainingSession s = TrainingSession.create(TrainingSessionTest.TINY, 8,
        TrainingSessionTest.config(schedule), Device.cpu())) {
      s.beginEpoch(1);
      GradientReport healthy = s.step(TrainingSessionTest.batch(1), null, true).gradients();
      healthy.residualRatio().forEach((block, r) -> assertTrue(r > 0.1 && r < 10, block + " ratio " + r));
      // layer3.0 has a projection shortcut: zero every conv in it and its output no longer depends on its input
      for (Map.Entry<String, ai.djl.nn.Parameter> e : s.parameters().entrySet()) {
        if (e.getKey().startsWith("layer3.0.") && e.getKey().endsWith("conv1.weight") || e.getKey().startsWith("layer3.0.")
            && (e.getKey().endsWith("conv2.weight") || e.getKey().endsWith("downsample.0.weight"))) {
          NDArray w = e.getValue().getArray();
          w.set(new float[(int) w.getShape().size()]);
        }
      }
      GradientReport broken = s.step(TrainingSessionTest.batch(2), null, true).gradients();
      assertEquals(0, broken.residualRatio().get("layer3.0"), 1e-6);
      assertTrue(broken.warnings().stream().anyMatch(w -> w.contains("layer3.0") && w.contains("vanish")), broken.warnings().toString());
    }
  }

  @Test
  void learningRateSchedulesWarmUpThenDecay() {
    LearningRateSchedule cosine = new LearningRateSchedule(LearningRateSchedule.Kind.COSINE, 11, 1, 1, 1);
    assertEquals(0.5, cosine.factor(0), 1e-12);
    assertEquals(1.0, cosine.factor(1), 1e-12);
    assertEquals(0.5, cosine.factor(6), 1e-12);
    LearningRateSchedule step = new LearningRateSchedule(LearningRateSchedule.Kind.STEP, 10, 0, 3, 0.1);
    assertEquals(1.0, step.factor(2), 1e-12);
    assertEquals(0.1, step.factor(3), 1e-12);
    assertEquals(0.01, step.factor(6), 1e-12);
  }
}
