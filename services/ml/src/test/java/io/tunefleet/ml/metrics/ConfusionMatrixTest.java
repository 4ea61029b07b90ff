package io.tunefleet.ml.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tunefleet.proto.v1.Metrics;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfusionMatrixTest {
  @Test
  void computesAccuracyPrecisionRecallAndMacroF1ByHand() {
    // true 0: predicted 0,0,1 ; true 1: predicted 1,1 ; true 2: predicted 0,2,2,2
    ConfusionMatrix cm = new ConfusionMatrix(3);
    cm.add(new int[] {0, 0, 0, 1, 1, 2, 2, 2, 2}, new int[] {0, 0, 1, 1, 1, 0, 2, 2, 2});
    assertEquals(7.0 / 9, cm.accuracy(), 1e-12);
    assertEquals(2.0 / 3, cm.precision(0), 1e-12); // predicted 0: two right, one from class 2
    assertEquals(2.0 / 3, cm.recall(0), 1e-12);
    assertEquals(2.0 / 3, cm.precision(1), 1e-12);
    assertEquals(1.0, cm.recall(1), 1e-12);
    assertEquals(1.0, cm.precision(2), 1e-12);
    assertEquals(0.75, cm.recall(2), 1e-12);
    double f0 = 2.0 / 3;
    double f1 = 2 * (2.0 / 3) * 1 / (2.0 / 3 + 1);
    double f2 = 2 * 0.75 / 1.75;
    assertEquals((f0 + f1 + f2) / 3, cm.macroF1(), 1e-12);
  }

  @Test
  void exportsPerClassMetricsAndTheMatrixRowMajor() {
    ConfusionMatrix cm = new ConfusionMatrix(2);
    cm.add(new int[] {0, 1, 1}, new int[] {1, 1, 0});
    cm.addLoss(3.0, 3);
    Metrics m = cm.toProto(List.of("cat", "dog"));
    assertEquals(List.of(0L, 1L, 1L, 1L), m.getConfusionList());
    assertEquals("dog", m.getPerClass(1).getName());
    assertEquals(2, m.getPerClass(1).getSupport());
    assertEquals(1.0, m.getLoss(), 1e-12);
    assertEquals(3, m.getSamples());
  }

  @Test
  void macroF1IgnoresClassesAbsentFromTheData() {
    ConfusionMatrix cm = new ConfusionMatrix(3);
    cm.add(new int[] {0, 1}, new int[] {0, 1});
    assertEquals(1.0, cm.macroF1(), 1e-12);
  }
}
